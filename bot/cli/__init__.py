"""The `okrbot` command line: the commands (app, schedule, doctor, person, report) and
`wiring`, the composition root."""
