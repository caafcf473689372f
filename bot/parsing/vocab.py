"""Words the parser knows, in English and Danish. Phrases are matched on normalised text
(lower case, markup removed, single spaces); longer phrases are tried first."""

from __future__ import annotations

# fmt: off

HEALTH_PHRASES: dict[str, str] = {
    'on track': 'on_track', 'on-track': 'on_track', 'ontrack': 'on_track', 'green': 'on_track',
    '🟢': 'on_track', 'på sporet': 'on_track', 'paa sporet': 'on_track', 'grøn': 'on_track',
    'grønt': 'on_track', 'groen': 'on_track', 'going well': 'on_track',
    'looking good': 'on_track', 'all good': 'on_track', 'at risk': 'at_risk',
    'at-risk': 'at_risk', 'behind': 'at_risk', 'a bit behind': 'at_risk',
    'slightly behind': 'at_risk', 'yellow': 'at_risk', 'amber': 'at_risk', '🟡': 'at_risk',
    '🟠': 'at_risk', 'i risiko': 'at_risk', 'bagud': 'at_risk', 'lidt bagud': 'at_risk',
    'gul': 'at_risk', 'gult': 'at_risk', 'risky': 'at_risk', 'off track': 'off_track',
    'off-track': 'off_track', 'blocked': 'off_track', 'red': 'off_track', '🔴': 'off_track',
    'blokeret': 'off_track', 'rød': 'off_track', 'rødt': 'off_track', 'stuck': 'off_track',
    'way behind': 'off_track', 'langt bagud': 'off_track', 'grønne': 'on_track',
    'gule': 'at_risk', 'røde': 'off_track',
}

# a health word followed by "by ..." / "af ..." is a blocker: the rest is its comment
BLOCKER_WORDS = (
    'blocked by', 'blokeret af', 'blocked on', 'waiting for', 'venter på',
)

DONE_WORDS = (
    '✅', '✔️', 'done', 'launched', 'shipped', 'live', 'is live', 'went live', 'complete',
    'completed', 'finished', 'delivered', 'released', 'færdig', 'færdigt', 'lanceret', 'klar',
    'leveret', 'afsluttet', 'gennemført', 'i luften', 'i hus', 'er i hus', 'in the bag',
    'wrapped up', 'signed off',
)

NOT_DONE_WORDS = (
    'not yet', 'not done', 'not launched', 'not live', 'not shipped', 'not finished',
    'ikke endnu', 'ikke færdig', 'ikke færdigt', 'ikke lanceret', 'ikke klar', 'endnu ikke',
)

NO_CHANGE_PHRASES = (
    'no change', 'no changes', 'nothing changed', 'nothing new', 'same as last week',
    'same as before', 'unchanged', 'no updates', 'no update', 'nothing to report', 'same',
    'uændret', 'uændrede', 'ingen ændring', 'ingen ændringer', 'samme som sidst',
    'samme som sidste uge', 'intet nyt', 'ingen nyheder', 'status quo', 'as last week',
    'all the same', 'still the same', 'the same', 'nothing moved', 'no movement', 'flat',
    'flat week', "haven't changed", "hasn't changed", 'have not changed', 'not changed',
    'nothing to add', 'same numbers', 'same as on', 'står stille', 'intet at melde',
    'ikke noget nyt', 'som sidst', 'som sidste uge', 'de samme', 'det samme', 'as before',
    'like last week', 'som før', 'som hidtil', 'ligesom sidst', 'same as last wk',
    'where it was', 'where they were', 'hvor det var', 'hvor de var', 'same place',
    'samme sted',
    'ingen bevægelse', 'samme niveau', 'ikke ændret', 'stadig det samme', 'som i sidste uge',
    'som i sidste',
)

SKIP_PHRASES = (
    'skip', 'skipping', 'skip this week', 'on vacation', 'vacation', 'on holiday', 'holiday',
    'out this week', 'ooo', 'out of office', 'off this week', 'sick', 'ferie', 'på ferie',
    'spring over', 'springer over', 'syg', 'fri denne uge', 'væk denne uge',
    'away', 'out sick', 'off sick', 'sick leave', 'on leave', 'parental leave', 'pto',
    'on pto', "i'm off", 'im off', 'off until', 'out until', 'pass', 'skip me', 'at a conference',
    'on a course', 'holder ferie', 'holder fri', 'har fri', 'barsel', 'på barsel', 'orlov',
    'på orlov', 'ude af kontoret', 'på kursus', 'spring mig over', 'afspadserer',
    'afspadsering', 'vinterferie', 'sommerferie', 'efterårsferie', 'juleferie', 'påskeferie',
    'sygemeldt', 'væk', 'fraværende',
)

# relative changes: markers before or after the number
UP_BEFORE = (
    '+', 'up', 'up by', 'another', 'op', 'op med', 'plus',
)

UP_AFTER = (
    'more', 'extra', 'additional', 'added', 'flere', 'mere', 'til', 'ekstra', 'nye',
)

DOWN_BEFORE = (
    '-', '−', 'down', 'down by', 'minus', 'ned', 'ned med',
)

DOWN_AFTER = (
    'fewer', 'less', 'færre', 'mindre',
)

# absolute markers: "down to 150" is a value, not a change
ABSOLUTE_BEFORE = (
    'down to', 'up to', 'to', 'now', 'at', 'is', 'ned til', 'op til', 'nu', 'er', 'på',
    'increased to', 'decreased to', 'reached', '=', 'står på', 'ligger på', 'lander på',
    'sits at', 'stands at',
)


# common OKR words in Danish (and spelling variants) mapped to an English stem
SYNONYMS: dict[str, str] = {
    'kampagne': 'campaign', 'kampagner': 'campaign', 'kampagnerne': 'campaign',
    'abonnent': 'subscriber', 'abonnenter': 'subscriber', 'abonnenterne': 'subscriber',
    'tilmeldte': 'subscriber', 'tilmeldinger': 'subscriber', 'signups': 'subscriber',
    'butik': 'store', 'butikker': 'store', 'butikkerne': 'store', 'shops': 'store',
    'shop': 'store', 'omsætning': 'revenue', 'omsætningen': 'revenue', 'omsaetning': 'revenue',
    'salg': 'sales', 'indtægt': 'revenue', 'indtægter': 'revenue', 'konvertering': 'conversion',
    'konverteringsrate': 'conversion', 'konverteringen': 'conversion', 'fejl': 'error',
    'fejlene': 'error', 'kunde': 'customer', 'kunder': 'customer', 'kvittering': 'receipt',
    'kvitteringer': 'receipt', 'bonner': 'receipt', 'loyalitet': 'loyalty',
    'loyalitetsprogram': 'loyalty', 'loyalitetsprogrammet': 'loyalty', 'andel': 'share',
    'andelen': 'share', 'integrationen': 'integration', 'abonnementer': 'subscriber',
    'emails': 'email', 'mails': 'email', 'flagship': 'flagship', 'flagskib': 'flagship',
    'flagskibsbutik': 'flagship', 'indretning': 'fit-out', 'ordrer': 'order', 'ordre': 'order',
    'butiksåbninger': 'store', 'netto': 'net',
}

# words that never identify a key result
STOPWORDS = frozenset({
    'a', 'about', 'af', 'all', 'alle', 'also', 'amount', 'an', 'and', 'approx', 'are', 'around',
    'at', 'be', 'been', 'by', 'ca', 'count', 'de', 'den', 'det', 'en', 'er', 'et', 'far', 'for',
    'fra', 'from', 'har', 'i', 'in', 'is', 'it', 'its', 'jeg', 'just', 'last', 'lige', 'med',
    'my', 'new', 'next', 'nogle', 'now', 'nu', 'number', 'ny', 'nye', 'of', 'og', 'også',
    'omkring', 'on', 'or', 'our', 'per', 'på', 'so', 'some', 'stadig', 'still', 'that', 'the',
    'these', 'this', 'those', 'til', 'to', 'total', 'uge', 'ugen', 'var', 'vi', 'was', 'we',
    'week', 'weeks', 'were', 'with', 'you', 'your',
})

NUMBER_WORDS_EN: dict[str, int] = {
    'zero': 0, 'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6, 'seven': 7, 'eight': 8,
    'nine': 9, 'ten': 10, 'eleven': 11, 'twelve': 12, 'thirteen': 13, 'fourteen': 14,
    'fifteen': 15, 'sixteen': 16, 'seventeen': 17, 'eighteen': 18, 'nineteen': 19, 'twenty': 20,
    'thirty': 30, 'forty': 40, 'fifty': 50, 'sixty': 60, 'seventy': 70, 'eighty': 80,
    'ninety': 90, 'hundred': 100, 'a hundred': 100, 'one hundred': 100, 'a dozen': 12,
    'dozen': 12,
}

NUMBER_WORDS_DA: dict[str, int] = {
    'nul': 0, 'to': 2, 'tre': 3, 'fire': 4, 'fem': 5, 'seks': 6, 'syv': 7, 'otte': 8, 'ni': 9,
    'ti': 10, 'elleve': 11, 'tolv': 12, 'tretten': 13, 'fjorten': 14, 'femten': 15,
    'seksten': 16, 'sytten': 17, 'atten': 18, 'nitten': 19, 'tyve': 20, 'tredive': 30,
    'fyrre': 40, 'halvtreds': 50, 'tres': 60, 'halvfjerds': 70, 'firs': 80, 'halvfems': 90,
    'hundrede': 100, 'et hundrede': 100,
}

# "one" / "en" / "et" are numbers only next to a relative marker ("one more", "en til")
ONE_WORDS = (
    'one', 'en', 'et',
)

SCALE_WORDS: dict[str, float] = {
    'k': 1000.0, 'tusind': 1000.0, 'thousand': 1000.0, 't': 1000.0, 'm': 1000000.0,
    'mio': 1000000.0, 'mio.': 1000000.0, 'mill': 1000000.0, 'mill.': 1000000.0,
    'million': 1000000.0, 'millioner': 1000000.0, 'millions': 1000000.0, 'mn': 1000000.0,
    'mia': 1000000000.0, 'mia.': 1000000000.0, 'mn.': 1000000.0, 'bn': 1000000000.0, 'billion': 1000000000.0,
    'milliard': 1000000000.0, 'milliarder': 1000000000.0,
}

CURRENCY_WORDS = frozenset({
    '$', 'dkk', 'eur', 'euro', 'kr', 'kr,-', 'kr.', 'kroner', 'usd', '€',
})

PERCENT_WORDS = (
    '%', 'pct', 'pct.', 'procent', 'percent', 'per cent',
)

# "2 nye butikker i alt": a total, whatever marker stands next to the number
TOTAL_WORDS = (
    'i alt', 'in total', 'total', 'totalt', 'altogether', 'samlet',
)

# words around "skip" / "no change" that do not change what the clause says
SMALL_TALK = frozenset({
    'again', 'am', 'beklager', 'denne', 'er', 'fredag', 'friday', 'goddag', 'godmorgen', 'good',
    'hej', 'hele', 'hello', 'hey', 'hi', "i'm", 'igen', 'im', 'jeg', 'mandag', 'monday',
    'morgen', 'morning', 'next', 'næste', 'onsdag', 'so', 'sorry', 'tak', 'thanks', 'this',
    'thursday', 'thx', 'til', 'tirsdag', 'torsdag', 'tuesday', 'uge', 'ugen', 'until',
    'wednesday', 'week', 'whole', 'back', 'tilbage', 'month', 'måned', 'soon', 'snart', 'one',
    'conference', 'all', 'alt', 'andet', 'else', 'everything', 'rest', 'resten', 'numbers',
    'tallene', 'tal', 'since', 'siden', 'indtil', 'days', 'dage', 'mig', 'fra', 'min', 'side',
    'today',
})

# canonical units: how a unit glued to a number or said after it is written
UNIT_ALIASES: dict[str, str] = {
    'kg': 'kg', 'kilo': 'kg', 'kilos': 'kg', 'kilogram': 'kg', 't': 't', 'ton': 't',
    'tons': 't', 'tonne': 't', 'tonnes': 't', 'tonnes.': 't', 'h': 'h', 'hr': 'h', 'hrs': 'h',
    'hour': 'h', 'hours': 'h', 'time': 'h', 'timer': 'h', 'min': 'min', 'mins': 'min',
    'minute': 'min', 'minutes': 'min', 'minut': 'min', 'minutter': 'min', 'sec': 's',
    'secs': 's', 'sek': 's', 'seconds': 's', 'sekunder': 's', 'd': 'days', 'day': 'days',
    'days': 'days', 'dag': 'days', 'dage': 'days', 'km': 'km', 'kwh': 'kwh', 'mwh': 'mwh',
    'l': 'l', 'liter': 'l', 'litre': 'l', 'litres': 'l', 'm3': 'm3', 'm³': 'm3', 'kubikmeter': 'm3',
    'm2': 'm2', 'm²': 'm2', 'kvm': 'm2',
    # units no key result here counts in yet: said with a number, they say it is not the
    # key result's unit ("madspild 46 g pr. kuvert" is no total in kg), so the reply asks
    'g': 'g', 'gram': 'g', 'grams': 'g', 'mg': 'mg', 'ml': 'ml', 'cl': 'cl', 'cm': 'cm',
    'mm': 'mm', 'ms': 'ms', 'kw': 'kw', 'mw': 'mw', 'gb': 'gb', 'tb': 'tb',
}
# a unit that, glued to digits, is rather a name: "4G", "5g" (the network)
GLUED_NAMES = frozenset({'g'})

# a number after these is what it was, a part of it, a target or a forecast: not the value
REMARK_BEFORE = (
    'was', 'were', 'var', 'from', 'fra', 'vs', 'vs.', 'versus', 'mod', 'against', 'compared to',
    'last week', 'sidste uge', 'sidst', 'target', 'mål', 'målet', 'goal', 'aim', 'heraf',
    'of which', 'incl', 'incl.', 'including', 'inkl', 'inkl.', 'inklusive', 'excl', 'ekskl',
    'expected', 'expect', 'forventet', 'forventer', 'forecast', 'prognose', 'to hit', 'will hit',
    'should hit', 'budget',
    'previously', 'prior', 'before', 'earlier', 'tidligere', 'før', 'forrige', 'last month',
    'sidste måned', 'last time', 'sidste gang', 'last quarter', 'sidste kvartal', 'forrige uge',
    'last wk', 'prev', 'formerly', 'hidtil', 'baseline', 'start', 'startede på', 'started at',
)

# a number followed by these is a part of the value said before it ("2 of them in Leeds")
PART_AFTER = (
    'of them', 'af dem', 'af disse', 'to go', 'left', 'tilbage', 'mangler', 'remaining',
    'still', 'stadig', 'new in', 'nye i', 'in', 'i', 'at', 'på', 'from', 'fra', 'arrive',
    'kommer', 'coming',
)

# words that make a clause without a key result a forecast or a plan, not a value
FORECAST_WORDS = (
    'expected', 'expect', 'expecting', 'forecast', 'should', 'aiming', 'aim', 'hope', 'hoping',
    'planned', 'plan', 'next week', 'forventet', 'forventer', 'forventes', 'regner med',
    'skal', 'håber', 'planlagt', 'næste uge',
)

# fmt: on
# fmt: off

# A clause says "no change" or "skip" in words of its own when every word of it is one of
# these (or small talk, a date, a name of a key result) and it has a cue: "nothing's changed",
# "der er ikke sket noget siden sidst", "travelling all week", "kan ikke nå det i denne uge".
# A negatable cue counts only with a negation: "NPS has changed" is no "no change".
NEGATIONS = frozenset({
    'nothing', "nothing's", 'nothings', 'no', 'not', "hasn't", 'hasnt', "haven't", 'havent',
    "didn't", 'didnt', "isn't", "won't", "can't", 'cant', 'cannot', 'intet', 'ingen', 'ikke',
    'ingenting', 'nada', 'never', 'aldrig',
})

NO_CHANGE_CUES = frozenset({
    'unchanged', 'uændret', 'uændrede', 'uaendret', 'uforandret', 'uforandrede', 'same', 'samme',
    'flat', 'quo', 'stille', 'steady', 'stable', 'stabil', 'stabilt', 'identical', 'identisk',
})

NO_CHANGE_NEGATABLE = frozenset({
    'change', 'changes', 'changed', 'changing', 'moved', 'move', 'moving', 'movement', 'budged',
    'happened', 'happening', 'new', 'news', 'nyt', 'ændret', 'ændring', 'ændringer', 'ændre',
    'sket', 'rykket', 'flyttet', 'bevægelse', 'bevæget', 'rørt', 'update', 'updates', 'opdatering',
    'opdateringer', 'opdatere', 'opdateres', 'updated', 'report', 'melde', 'progress',
    'fremskridt', 'different', 'anderledes',
})

NO_CHANGE_WORDS = frozenset({
    'all', 'alt', 'and', 'anything', 'as', 'at', 'de', 'den', 'der', 'det', 'endnu', 'er', 'far',
    'figures', 'for', 'gang', 'har', 'has', 'have', 'had', 'here', 'her', 'hidtil', 'hos', 'i',
    'is', 'it', 'its', "it's", 'last', 'much', 'me', 'mig', 'moment', 'my', 'nogen', 'noget', 'now',
    'nu', 'numbers', 'og', 'on', 'our', 'på', 'really', 'rigtig', 'rigtigt', 'sig', 'siden',
    'sidst', 'sidste', 'since', 'so', 'som', 'stadig', 'status', 'still', 'tal', 'tallene', 'the',
    'this', 'time', 'to', 'uge', 'ugen', 'vores', 'videre', 'week', 'yet', 'front', 'værd',
    'worth', 'mentioning', 'nævne', 'om', 'about', 'side', 'min', 'from', 'fra',
    'there', 'været', 'been', 'være', 'be', 'virkelig', 'helt', 'quite', 'basically', 'stort',
    'set', 'pretty', 'mostly', 'overall', 'samlet', 'everything', 'alle', 'okr', 'okrs',
    'kr', 'krs', 'wk', 'wks', 'before', 'før', 'two', 'three', 'four', 'both', 'tre', 'fire',
    'begge', 'sammen', 'them', 'dem', 'across', 'board', 'hele', 'vejen', 'rundt', 'linjen',
    'honestly', 'ærligt', 'egentlig', 'sadly', 'where', 'hvor', 'was', 'var', 'stands', 'står',
    'place', 'sted',
})

SKIP_CUES = frozenset({
    'away', 'off', 'out', 'ooo', 'pto', 'travelling', 'traveling', 'travel', 'rejser', 'rejse',
    'rejsende', 'fri', 'væk', 'syg', 'sick', 'ill', 'vacation', 'vacay', 'holiday', 'holidays',
    'leave', 'orlov', 'barsel', 'kursus', 'course', 'conference', 'konference', 'skip', 'skipping',
    'pass', 'afspadsering', 'afspadserer', 'sygemeldt', 'fraværende', 'absent', 'offsite',
    'offline', 'ude', 'farten', 'road', 'seminar', 'messe', 'tradeshow', 'workshop',
})

SKIP_NEGATABLE = frozenset({
    'nå', 'naa', 'make', 'manage', 'tid', 'time', 'chance', 'mulighed', 'get', 'når',
})

# Danish compounds of a leave word: "juleferie", "barselsorlov", "sygedag", "tjenesterejse"
SKIP_PREFIXES = ('barsel', 'syge', 'ferie')
SKIP_SUFFIXES = ('ferie', 'orlov', 'rejse', 'kursus', 'fri', 'sygdom')

SKIP_WORDS = frozenset({
    'a', 'all', 'am', 'an', 'at', 'back', 'business', 'da', 'dag', 'dage', 'days', 'denne', 'det',
    'en', 'er', 'et', 'family', 'familie', 'for', 'frem', 'fra', 'from', 'har', 'have', 'hele',
    'i', 'i\'m', 'im', 'in', 'is', 'it', 'jeg', 'kan', 'me', 'med', 'mig', 'min', 'my', 'on',
    'over', 'parental', 'paternity', 'maternity', 'på', 'sick', 'the', 'this', 'til', 'till',
    'tilbage', 'to', 'trip', 'uge', 'ugen', 'until', 'week', 'whole', 'with', 'work', 'arbejde',
    'weeks', 'uger', 'resten', 'rest', 'of', 'af', 'mostly', 'most', 'so', 'så', 'no', 'update',
    'updates', 'opdatering', 'besides', 'nothing', 'here', 'today', 'just', 'været', 'been',
    'gang', 'time',
    'bare', 'lige', 'unfortunately', 'desværre', 'again', 'igen', 'still', 'stadig', 'also',
    'også', 'annual', 'kids', 'børn', 'børnene', 'unwell', 'home', 'hjemme', 'fredag', 'last',
    'sidste', 'next', 'næste', 'and', 'og', 'early', 'tidlig', 'start', 'since', 'siden',
    'christmas', 'easter', 'påske', 'summer', 'sommer', 'winter', 'vinter', 'autumn',
    'efterår', 'break', 'som', 'as', 'usual', 'tomorrow', 'imorgen',
    'check-in', 'checkin', 'now', 'nu', 'right', 'currently', 'pt', 'p.t', 'swamped', 'busy',
    'slammed', 'overloaded', 'travl', 'travlt', 'snowed', 'under', 'hectic', 'crazy', 'vild',
    'wk', 'wks', 'ingen', 'opdateringer', 'beklager', 'sorry', 'apologies', 'undskyld',
    'holder', 'tager', 'går', 'taking', 'going', 'heading', 'will', 'be', 'vil', 'være',
    'honestly', 'ærligt', 'egentlig', 'basically', 'sadly',
})

# fmt: on
