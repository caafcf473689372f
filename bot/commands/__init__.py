"""`okr ...` chat commands: the router, the answers, who may do what, key-result history."""
