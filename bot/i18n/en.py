"""English messages."""

MESSAGES: dict[str, str] = {
    # formats
    "million": "{n}M",
    "never": "never",
    "today": "today",
    "yesterday": "yesterday",
    "days_ago": "{n} days ago",
    "weeks_ago": "{n} weeks ago",
    "months_ago": "{n} months ago",
    "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "date": "{day} {month} {year}",
    "health.on_track": "on track",
    "health.at_risk": "at risk",
    "health.off_track": "off track",
    "done": "done",
    "not_done": "not done",
    "threshold.max": "{value} (keep ≤ {bound})",
    "threshold.min": "{value} (keep ≥ {bound})",
    "source.dm": "check-in",
    "source.button": "button",
    "source.form": "form",
    "source.command": "okr set",
    "source.api": "API",
    "source.import": "OKR file",
    # help
    "help.title": "okrbot: your OKRs where you talk",
    "help.text": (
        "Members answer a weekly check-in; leaders and everyone else can see progress at once."
    ),
    "help.commands": "Commands",
    "help.team": "a team's objectives and key results (`okr team <team>` always means a team)",
    "help.share": "the same, posted for everyone in the channel",
    "help.me": "your key results and this week's check-in",
    "help.company": "how the teams' objectives roll up to the company objectives",
    "help.focus": "every objective with that focus area, across teams",
    "help.history": "the last updates of a key result",
    "help.help": "this help",
    "help.teams": "Teams: {teams}",
    "help.focus_tags": "Focus areas: {tags}",
    # team
    "team.title": "{team} · {period} · {percent}",
    "team.pace": "{elapsed} of the period has passed; ⚠ marks key results more than 25 points behind that pace.",
    "team.supports": "↳ supports {key} {title} ({team})",
    "team.no_objectives": "{team} has no objectives for the current period.",
    "team.usage": "Which team? For example `okr team {example}`.",
    "team.sub_teams": "Sub-teams: {teams}",
    "row.owner_never": "{owner} · no updates yet",
    "row.owner_updated": "{owner} · updated {when}",
    "row.owner_updated_by": "{owner} · updated {when} by {who}",
    # me
    "me.title": "{name}: your key results",
    "me.none": "You own no key results in the current period.",
    "me.checkin_done": "This week's check-in ({week}) is done ✓",
    "me.checkin_skipped": "You skipped this week's check-in ({week}).",
    "me.checkin_open": "This week's check-in ({week}) is not done yet.",
    "me.away": "You are away until {date}: no prompts until then.",
    "me.leads": "You lead: {teams}",
    "me.unknown": "I don't know who you are yet: ask an admin to add you to the OKR file.",
    # tree
    "tree.title": "{org} · alignment · {period}",
    "tree.unaligned": "Not aligned to a company objective",
    "tree.empty": "There are no objectives for the current period.",
    "tree.legend": "Roll-up: each objective's own key results averaged with the objectives aligned to it.",
    # focus
    "focus.title": "Focus: {tag}",
    "focus.summary": "{objectives} objectives in {teams} teams · {percent} on average",
    "focus.unknown": "No objective has the focus area “{tag}”.",
    "focus.known": "Focus areas: {tags}",
    "focus.usage": "Which focus area? For example `okr focus {example}`.",
    # history
    "history.title": "{key} {title}: history",
    "history.row": "{date} · {who} · {old} → {new}",
    "history.none": "No updates yet.",
    "history.unknown": "There is no key result “{key}”.",
    "history.closest": "Closest: {keys}",
    "history.usage": "Which key result? For example `okr history {example}`.",
    "history.system": "okrbot",
    # errors
    # reply parser questions
    "parse.which": "Which key result is that for? {options} (answer with the number)",
    "parse.two_values": "You gave {key} {title} two values, {a} and {b}: which one is right?",
    "parse.confirm": "{key} {title}: {value} is far outside {range}. Reply “yes” to save it, or send the right value.",
    "parse.unknown_position": "Your key results are numbered 1 to {n}; there is no {position}.",
    "parse.unknown_kr": "{key} is not one of your key results: write its number from the list, e.g. “{example}”.",
    "parse.two_numbers": "I see more than one number for {key} {title}: which one is the new value?",
    "parse.not_binary": "{key} {title} is done or not done: answer “done” or “not yet”.",
    "parse.unclear": "I couldn't read the change for {key} {title}: please send the new value, e.g. “{example}”.",
    "parse.milestone": "{key} {title} is a milestone from 0 to 100 %: which percentage is it at?",
    "unknown.word": "I don't know the team or command “{word}”.",
    "unknown.closest": "Closest teams: {teams}",
    "unknown.teams": "Teams: {teams}",
    "unknown.help": "Type `okr help` for the commands.",
    "not_yet": "`okr {word}` is not available in this version yet.",
    "error.internal": "Sorry, something went wrong on my side (error {ref}). Please try again.",
    "plain.unsupported": (
        "Thanks, I've kept your message. Replies in plain words are not read yet: "
        "try `okr me` or `okr help`."
    ),
    "plain.stranger": (
        "Hi! I don't know you yet: okrbot only knows the people in the company's OKR file. "
        "Ask your OKR admin to add you (with your email) and I'll start sending you check-ins."
    ),
}
