"""Words for the classroom: labels, tooltips and the scenario Info panel, never identifiers.

Everything a student reads on the page or in the room comes from here, so the
wording can be checked (and translated) in one place.

Example:
    >>> REGIME_WORDS["denuclearization_first"], OUTCOME_WORDS["hedged_stalemate"]
    ('Denuclearization first', 'hedged stalemate')
    >>> scenario_title("replay_2018")
    '2018 replay, month by month'
"""

from __future__ import annotations

from sim.model.names import ACTION_TABLE, Action

#: Sequencing regimes in words (``configs`` keys on the left).
REGIME_WORDS = {
    "denuclearization_first": "Denuclearization first",
    "action_for_action": "Action for action",
    "relief_first": "Relief first",
}

#: Outcome classes in words.
OUTCOME_WORDS = {
    "undecided": "undecided — the talks go on",
    "agreement": "agreement",
    "stalemate": "stalemate",
    "hedged_stalemate": "hedged stalemate",
    "breakdown": "breakdown (a crisis)",
}

#: Short scenario titles for pickers; the one-line description comes from the YAML.
SCENARIO_TITLES = {
    "baseline_2018": "2018 baseline",
    "replay_2018": "2018 replay, month by month",
    "relief_first": "Relief first",
    "action_for_action": "Action for action",
    "maximum_pressure": "Maximum pressure",
    "grit": "GRIT (small reciprocated steps)",
}

#: The models a lesson may name (the page's Model picker): key -> words.
MODEL_WORDS = {
    "default": "Private types and beliefs (the default)",
    "earlier": "Trust rule, no types (earlier versions' mechanism, today's preferences)",
}

#: What "nobody" in the seat picker reads as.
NOBODY_WORDS = "Nobody (the model plays every state)"

ACTION_TITLES = {a: ACTION_TABLE[a].label for a in Action}

#: Tooltips for every control (the page and the room).
TIPS = {
    "scenario": "Start a fresh run of a ready-made scenario; the settings below take its values.",
    "step": "Play one round: every state moves at once, then imagery looks for hedging.",
    "play": "Play round after round at the chosen speed until the talks end (press again to pause).",
    "reset": "Start again from round 0 with exactly the settings shown below.",
    "speed": "How many rounds ▶ plays per second.",
    "assurance": "Security assurances on the table at the start (end-of-war declaration, paused drills).",
    "relief": "Sanctions relief on the table at the start (0 = none, 1 = all sanctions lifted).",
    "detect_prob": "Chance per round that satellite imagery catches the DPRK's covert hedging.",
    "rationality": "How strictly the states pick their best option: 0 = at random, 20 = almost always the best.",
    "regime": "Who must move first: the DPRK (denuclearization first), both in steps, or the USA (relief first).",
    "rounds": "How many rounds the talks may last before they are scored.",
    "seed": "The run's random numbers: the same seed replays the same run. Blank: a new random seed.",
    "model": "Which model runs: the default (each side has a private type; trust is a Bayesian belief) or the "
    "mechanism of earlier versions (trust by a rule, no types), which lessons 1–3 were first written on, "
    "with the same estimated preferences as the default.",
    "player": "Take one state's seat yourself: you choose its move each round; the model plays the others.",
    "csv": "Download every round of this run (shared state, each state's move, trust) as a CSV table.",
    "branch": "Start a second run from this very round with a change, drawing the same random numbers.",
    "branch_relief": "Sanctions relief on the table from the coming round on, in the what-if run.",
    "branch_assurance": "Security assurance on the table from the coming round on, in the what-if run.",
    "branch_detect": "Chance per round that imagery catches hedging, in the what-if run.",
    "branch_offer": "An offer of partial relief this very round (+0.2 relief, a little trust both ways).",
    "branch_off": "Close the side-by-side view and go on with the run alone.",
    "finish": "Play the run (and the what-if run) to the end at once.",
    "concede": "Concede this round.",
    "hedge": "Hedge this round.",
    "escalate": "Escalate this round.",
}

#: Teaching notes: what a best reply and an equilibrium are, one line each.
BEST_REPLY = (
    "Best reply: the move that scores highest for a state, given the other's move "
    "(bold in the table)."
)
EQUILIBRIUM = (
    "Equilibrium: a pair of moves that are best replies to each other — neither state "
    "gains by changing its move alone (framed cells)."
)


def scenario_title(name: str) -> str:
    """The scenario's title for a picker (its name in words if no title is set)."""
    return SCENARIO_TITLES.get(name, name.replace("_", " ").capitalize())


def regime_words(regime: str) -> str:
    return REGIME_WORDS.get(regime, regime.replace("_", " ").capitalize())


def outcome_words(outcome: str) -> str:
    return OUTCOME_WORDS.get(outcome, outcome.replace("_", " "))


# --------------------------------------------------------------------------------------
# The Info panel: NetLogo's sections for each scenario

MODEL_DOC = "docs/model.md"

_HOW_IT_WORKS = (
    "Four states sit at the table: the USA, the DPRK, South Korea (ROK) and China (PRC). "
    "Every round each of them, at the same time, **concedes**, **hedges** or **escalates**. "
    "Each scores its three options by what is on the table (security assurances and "
    "sanctions relief, as the DPRK feels it after China's enforcement), by tension, by its "
    "trust in its counterpart and by what the counterpart did last round, then picks one "
    "with some noise (the *rationality* setting). Hedging by the DPRK is covert: satellite "
    "imagery catches it only with the *detection probability*, and each catch costs the "
    "USA's trust. Scheduled events (summits, cancelled meetings, reports, tests) shift the "
    "state at the start of their round. The talks end in **agreement** when verified "
    "denuclearization and the package delivered both pass the agreement bar, in "
    "**breakdown** when tension passes the crisis line, and otherwise, at the horizon, in a "
    "**stalemate** — a **hedged stalemate** if undeclared capability grew meanwhile."
)

_EXTENDING = (
    "Scenarios are YAML files in `configs/scenario/`: copy one, change what is on the table "
    "or schedule events, and it appears in the picker. Japan and Russia join with "
    "`actors=six_party`; a new decision rule is one small registered function in "
    "`sim/model/policies/`. Every equation and parameter is documented in the model's "
    "description (ODD protocol)."
)

#: Scenario-specific sections; "how it works" and "extending" are shared, with a scenario note.
_INFO: dict[str, dict[str, str]] = {
    "baseline_2018": {
        "what": (
            "Late 2018, after the Singapore summit: moderate security assurances, no sanctions "
            "relief, and the US line *denuclearization first*. Talks were at an impasse while "
            "imagery showed the DPRK improving undeclared missile bases."
        ),
        "how": "Under denuclearization first, relief waits for verified steps and snaps back when imagery catches hedging.",
        "notice": (
            "- Both the USA and the DPRK hedge almost every round: it is the safe move for each.\n"
            "- Undeclared capability (orange) keeps growing while verified denuclearization stays near 0.\n"
            "- Each × in the moves chart (imagery catches hedging) is followed by a drop in the USA's trust."
        ),
        "try": (
            "- Raise *Sanctions relief* to 0.5, press Reset and ▶: does relief alone help?\n"
            "- Switch the regime to *Relief first* with the same relief.\n"
            "- Take the DPRK's seat and concede every round: is that enough for a deal?"
        ),
    },
    "replay_2018": {
        "what": (
            "April 2018 to February 2019, one round per month, with the year's events: the test "
            "halt, the Punggye-ri tunnels, the Singapore summit, the imagery reports, the "
            "cancelled meetings, and a second summit wanted 'early next year'."
        ),
        "how": "Each event acts at the start of its month; the ▼ marks above the moves chart show them.",
        "notice": (
            "- The DPRK's concession in May 2018 is forced by the scenario (the tunnels were blown up).\n"
            "- The imagery reports of July and November flag the DPRK as if imagery had caught it.\n"
            "- By February 2019 the talks are a hedged stalemate in almost every run."
        ),
        "try": (
            "- Open *What if…* in August 2018 and offer relief: does Hanoi look different?\n"
            "- Set the detection probability to 0: how much of the stall is the imagery?"
        ),
    },
    "relief_first": {
        "what": (
            "The DPRK's own sequencing: security assurances and sanctions relief delivered up "
            "front and unconditionally (0.5 each), before any denuclearization."
        ),
        "how": "Under relief first, relief no longer waits for verification and is not withdrawn after a detection.",
        "notice": (
            "- The DPRK starts to concede within a few rounds; trust rises both ways.\n"
            "- Undeclared capability falls once the DPRK concedes."
        ),
        "try": (
            "- Keep relief first but set assurance and relief back to 0.4 and 0: is it the order or the offer?\n"
            "- Lower assurance to 0.1: assurances and relief are complements."
        ),
    },
    "action_for_action": {
        "what": "Phased reciprocity: firmer assurances and partial relief (0.6 each), each side's steps half conditional on the other's.",
        "how": "Under action for action, half of the relief waits for verified steps.",
        "notice": "- Watch who concedes first and how the other answers in the next round.",
        "try": "- Compare with *Relief first* and *Denuclearization first* at the same offer (Reset after each).",
    },
    "maximum_pressure": {
        "what": "2017-style maximum pressure: few assurances (0.1), no relief, strict sanctions enforcement, and a USA quick to escalate and to punish detected hedging.",
        "how": "China enforces strictly, so whatever relief there is, the DPRK feels little of it.",
        "notice": "- Tension (red) climbs; look for the round where it crosses the crisis line.",
        "try": "- Lower the detection probability: does less imagery mean less crisis?",
    },
    "grit": {
        "what": (
            "Osgood's GRIT (Graduated and Reciprocated Initiatives in Tension-reduction): the USA "
            "makes a small unilateral concession every four rounds, reciprocates any concession, "
            "answers an escalation with one escalation and otherwise hedges."
        ),
        "how": "The USA plays the GRIT rule instead of weighing its options; the others are as in the 2018 baseline.",
        "notice": (
            "- USA concessions in rounds 1, 5, 9, … while the DPRK keeps hedging at first.\n"
            "- The DPRK's trust in the USA rises slowly; after some twenty rounds it begins to reciprocate."
        ),
        "try": "- Take the USA's seat and try GRIT by hand: concede once every four rounds, hedge otherwise.",
    },
}


def scenario_info(name: str, description: str = "") -> dict[str, str]:
    """The Info panel of scenario ``name``: NetLogo's five sections, in Markdown.

    Example:
        >>> list(scenario_info("grit"))
        ['What is it?', 'How it works', 'Things to notice', 'Things to try', 'Extending the model']
    """
    own = _INFO.get(name, {})
    return {
        "What is it?": own.get("what", description or scenario_title(name)),
        "How it works": _HOW_IT_WORKS + ("\n\n" + own["how"] if "how" in own else ""),
        "Things to notice": own.get("notice", "- Watch the shared state and who concedes first."),
        "Things to try": own.get("try", "- Change one setting at a time and press Reset."),
        "Extending the model": _EXTENDING,
    }
