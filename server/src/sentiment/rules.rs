//! Precise keyword rules for intents. They fire on unambiguous wording ("talk to a human",
//! "file a complaint", "my lawyer will") and stay silent on near misses ("how many people can
//! use one plan", "what is a user agent"); the shipped classifier covers the rest (and
//! replaces them when the embedding model runs, see [`super::analyze`]).

use std::sync::OnceLock;

use regex::Regex;

use super::intents::{Intent, IntentScores};

/// Score a matching rule gives its intent.
pub const RULE_SCORE: f32 = 0.95;

struct Rule {
    intent: Intent,
    pattern: Regex,
}

const PEOPLE: &str = r"(?:a |an |some |the |your |real |actual |live )*(?:human|person|people|agent|representative|rep|someone|somebody|anyone|anybody|operator|manager|supervisor|staff|employee|team member|support (?:staff|person|agent))s?";

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let people = PEOPLE;
        let specs: Vec<(Intent, String)> = vec![
            // Asks for a person.
            (Intent::HumanRequest, format!(r"\b(?:talk|speak|chat|connect|transfer|put|escalate|pass|forward)(?:ing)?\b(?: me)?(?: through)?(?: to| with)? {people}\b")),
            // Customer service as a department is a question the knowledge base answers
            // ("how do I contact customer service"); being put through to it now is a hand-off.
            (Intent::HumanRequest, r"\b(?:transfer|put|connect|pass|forward)\w*\b(?: me)?(?: through)?(?: to| with)? (?:your |the )?(?:customer (?:service|support|care)|support(?: team)?|help ?desk)\b".into()),
            (Intent::HumanRequest, r"\b(?:real|live|actual|human) (?:person|human|agent|people|support|being|rep|representative)\b".into()),
            (Intent::HumanRequest, format!(r"\b(?:get|give|find|need|want|bring)(?: me)? {people}\b")),
            (Intent::HumanRequest, r"^\W*(?:a |an )?(?:human|agent|operator|representative|rep|person|real person|live agent|live chat)(?:\s+(?:please|pls|plz|now|asap))?\W*$".into()),
            (Intent::HumanRequest, r"\b(?:is there|are there)\s+(?:a |an |any |some )?(?:real |live |actual )?(?:human|person|agent|anyone|anybody|someone|somebody)\b(?:\s*(?:[?!.]|$)|\s+(?:i can|we can|to (?:talk|chat|speak)|there|available|around|real|who can help|here|on|at))".into()),
            (Intent::HumanRequest, r"\b(?:any(?:one|body)|some(?:one|body))\s+(?:there|around|here|real|available|home)\b".into()),
            (Intent::HumanRequest, r"\b(?:not?|don'?t want to|stop) (?:talk(?:ing)?|speak(?:ing)?|chat(?:ting)?) (?:to|with) (?:a |the |this )?(?:bot|robot|machine|ai)\b".into()),
            (Intent::HumanRequest, r"\b(?:some(?:one|body)|any(?:one|body)|a person|a human)\b.{0,25}\b(?:call|phone|ring|email|contact) me\b".into()),
            (Intent::HumanRequest, r"\bcall me back\b|\bcallback\b|\bescalate (?:this|it|my)\b".into()),
            (Intent::HumanRequest, r"\b(?:some(?:one|body)|a (?:human|person|real person)|an? (?:agent|rep))\b(?: from [a-z ]{1,20}?)? (?:please |pls )?(?:check|look|help|sort|review|fix|handle|take)\b".into()),
            // Complaint.
            (Intent::Problem, r"\b(?:worst|terrible|horrible|awful|useless|pathetic|ridiculous|unacceptable|disgusting|incompetent|appalling|scam|rip-?off|ripped off|garbage|rubbish|trash|joke|shambles|nightmare)\b".into()),
            (Intent::Problem, r"\b(?:charged|billed|debited|taken)\b.{0,20}\b(?:twice|two times|double|three times|again|wrong amount|without)\b|\bdouble[- ]?(?:charged|billed)\b".into()),
            (Intent::Problem, r"\b(?:still|yet again|again)\b.{0,20}\b(?:not|n't|no|nothing|broken|wrong|waiting|down|missing|charg\w*|bill\w*|dropping|crashing|failing|late)\b".into()),
            (Intent::Problem, r"\b(?:absurd|unbelievable|outrageous|not ok(?:ay)?|not acceptable|shocking|a disgrace)\b|\byou keep\b|\bpaying\b.{0,25}\bfor this\b".into()),
            (Intent::Problem, r"\b(?:doesn'?t|does not|didn'?t|did not|won'?t|isn'?t|not) (?:answer|solve|fix|address|explain)\w*\b|\bthe same\b.{0,25}\b(?:again|article|link|answer|reply|form|message|email)\b|\b(?:another|same) (?:generic|useless|canned|automated|copy[- ]paste)\b".into()),
            (Intent::Problem, r"\b(?:already|you) (?:said|told me|asked|wrote)\b.{0,30}\b(?:twice|again|before|already|\d+ times|last week|yesterday)\b".into()),
            (Intent::Problem, r"\bordered\b.{0,40}\b(?:got|received|sent me|came)\b.{0,20}\b(?:instead|wrong|different|another|one)\b|\bno (?:record|reservation|booking) (?:of|for|under)\b".into()),
            (Intent::Problem, r"\b(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth|another) (?:week|day|month) (?:in a row|now|of this)\b|\bthis is the (?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth) (?:week|day|month|time)\b".into()),
            (Intent::Problem, r"\b(?:arrived|came|is|was)\s+(?:smashed|broken|damaged|crushed|cold|soggy|spilled|ripped|torn|wet|opened)\b".into()),
            (Intent::Problem, r"\b(?:thinking (?:of|about)|going to|gonna|will|about to)\s+(?:move|moving|switch|switching|leave|leaving|go|going)\b.{0,30}\b(?:another|other|competitor|elsewhere|somewhere else)\b".into()),
            (Intent::Problem, r"\b(?:never|not|hasn'?t|haven'?t|didn'?t|has not|have not|did not)\s+(?:arrived|received|come|came|shipped|delivered|got|gotten|been (?:delivered|shipped|refunded|fixed))\b".into()),
            (Intent::Problem, r"\b(?:wait(?:ed|ing)|been)\b.{0,15}\b(?:\d+|two|three|four|five|six|several|many)\s+(?:days|weeks|months|hours)\b".into()),
            (Intent::Problem, r"\b(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)|[0-9]+) times?\b.{0,20}\b(?:ask|tell|contact|writ|email|call|explain|same)\w*|\b(?:third|fourth|fifth|\d+(?:rd|th)) time\b".into()),
            (Intent::Problem, r"\b(?:fed up|sick of|tired of|had enough|not happy|unhappy|disappointed|frustrat\w*|annoy\w*|angry|furious|pissed|outraged|livid)\b".into()),
            (Intent::Problem, r"\bwaste of (?:time|money)\b|\bnot (?:helpful|helping|useful)\b|\b(?:doesn'?t|does not|didn'?t|did not|isn'?t|is not) help(?:ing|ful)?\b|\bno help\b".into()),
            (Intent::Problem, r"\b(?:nobody|no one|no-one|never)\b.{0,20}\b(?:help|answer|repl|respond|fix|get back|call)\w*".into()),
            (Intent::Problem, r"\b(?:you (?:people|guys)|your (?:bot|company|service|support))\b.{0,20}\b(?:suck|can'?t|cannot|never|don'?t|won'?t|keep)\b".into()),
            (Intent::Problem, r"\b(?:keeps?|kept) (?:crashing|failing|breaking|freezing|logging me out|charging)\b".into()),
            (Intent::Problem, r"\b(?:wrong|damaged|broken|missing|cold|late) (?:item|order|product|package|parcel|delivery|food|size)\b".into()),
            // Cancel, return, or money back.
            (Intent::CancelRefund, r"\b(?:cancel|terminate|close|delete|end|stop)\b.{0,25}\b(?:subscription|account|membership|plan|order|contract|service|booking|reservation|renewal|trial)\b".into()),
            (Intent::CancelRefund, r"\b(?:want|need|demand|get|give|issue|expect|where(?:'s| is))\b.{0,20}\b(?:refund(?:ed)?|money back|my money)\b|\brefund (?:me|my|it|this|the)\b|\bchargeback\b".into()),
            (Intent::CancelRefund, r"\bstop (?:charging|billing|taking)\b|\bunsubscribe me\b|\b(?:return|send back) (?:it|this|the|my)\b".into()),
            // Legal or public threats.
            (Intent::LegalThreat, r"\b(?:sue|suing|sued|lawsuit|legal action|small claims|class action|take (?:you|this|it) to court|see you in court)\b".into()),
            (Intent::LegalThreat, r"\b(?:contact|call|get|hire|involve|hear from|talk to|speak to|speak with|talking to)\w* (?:my|a|an) (?:lawyer|attorney|solicitor)\b|\b(?:lawyer|attorney|solicitor)s? (?:will|is going to|are going to)\b".into()),
            (Intent::LegalThreat, r"\b(?:report|complain|file)\w*\b.{0,40}\b(?:bbb|better business bureau|ftc|attorney general|ombudsman|consumer protection|trading standards|data protection|regulator|cfpb|authorities|police)\b".into()),
            (Intent::LegalThreat, r"\b(?:dispute (?:the|this|a) (?:charge|payment)|report (?:this|you|it) (?:to my bank|as fraud)|call my bank)\b|\bdisput\w*\b.{0,25}\b(?:bank|card|paypal|charge|payment)\b|\bcharge ?back\b".into()),
            (Intent::LegalThreat, r"\b(?:post|tweet|write|leave|share|tell|expose|go)\w*\b.{0,30}\b(?:twitter|reddit|facebook|tiktok|instagram|trustpilot|yelp|social media|the press|journalists?|the news|everyone|public(?:ly)?)\b|\b(?:1|one)[- ]star\b|\b(?:bad|negative|terrible|awful) reviews?\b".into()),
            // Urgency.
            (Intent::Urgency, r"\b(?:urgent(?:ly)?|asap|a\.s\.a\.p|immediately|right now|right away|emergency|critical|time[- ]sensitive)\b".into()),
            (Intent::Urgency, r"\b(?:site|server|website|shop|store|app|production|prod|system|checkout|service|everything)\b.{0,12}\b(?:is |are |went |goes )?(?:down|offline|not loading)\b".into()),
            (Intent::Urgency, r"\blosing (?:money|sales|customers|business|orders)\b".into()),
            (Intent::Complaint, r"\b(?:file|filing|lodge|lodging|make|making|submit|submitting|raise|raising|register|open|opening|log|put in)\b(?: (?:a|an|my|this|the))?(?: (?:formal|official|written|consumer))? (?:complaint|grievance)\b|\bcomplaints? (?:department|procedure|process|team|form|reference)\b|\b(?:formal|official) complaint\b".into()),
            (Intent::AccountSecurity, r"\b(?:hacked|compromised|stolen|identity theft|unauthori[sz]ed|fraudulent|fraud)\b|\b(?:didn'?t|did not|never) (?:make|place|authori[sz]e|order|buy)\b.{0,25}\b(?:order|charge|payment|purchase|transaction)s?\b|\b(?:order|charge|payment|purchase|transaction)s?\b.{0,25}\b(?:i|we) (?:didn'?t|did not|never) (?:make|place|authori[sz]e|order|buy)\b".into()),
            (Intent::Urgency, r"\b(?:by|before) (?:today|tonight|tomorrow|end of (?:the )?day|eod|noon|midnight)\b|\bin (?:\d+|an?|two|three) (?:minutes?|hours?)\b|\bwithin the hour\b".into()),
            (Intent::Urgency, r"\b(?:need|needs|want|have to|must|got to)\b.{0,30}\b(?:today|tonight|tomorrow|now|asap)\b|\bdue (?:today|tomorrow|tonight)\b|\bevery (?:minute|hour)\b".into()),
        ];
        specs
            .into_iter()
            .map(|(intent, p)| Rule {
                intent,
                pattern: Regex::new(&format!("(?i){p}")).expect("valid rule pattern"),
            })
            .collect()
    })
}

/// Phrases that look like an intent but are not ("user agent", "is it urgent to update").
fn vetoed(intent: Intent, text: &str) -> bool {
    static VETO: OnceLock<Vec<(Intent, Regex)>> = OnceLock::new();
    let vetoes = VETO.get_or_init(|| {
        [
            (Intent::HumanRequest, r"\buser[- ]agent\b|\b(?:travel|real estate|insurance|shipping|customs|booking|estate) agents?\b|\bhow many (?:people|agents|users|seats)\b|\bagent (?:role|seat|license|app|account)s?\b"),
            (Intent::Urgency, r"\bis (?:it|this) (?:urgent|critical)\b|\bnot urgent\b|\bno rush\b|\burgent (?:tasks?|tickets?|items?|label|flag|tag|priority|filter|status)\b|\b(?:as|mark\w*|flag\w*|tag\w*) (?:\w+ )?(?:urgent|critical)\b"),
            (Intent::CancelRefund, r"\b(?:refund|return|cancellation|notice) (?:policy|window|period|rules|conditions)\b|\bam i (?:entitled|eligible)\b|\bdo (?:i|we) (?:need|have) to return\b"),
        ]
        .into_iter()
        .map(|(i, p)| (i, Regex::new(&format!("(?i){p}")).expect("valid veto pattern")))
        .collect()
    });
    vetoes
        .iter()
        .any(|(i, re)| *i == intent && re.is_match(text))
}

/// Intents whose rules match `text`, at [`RULE_SCORE`].
pub fn match_rules(text: &str) -> IntentScores {
    let mut scores = IntentScores::default();
    for rule in rules() {
        if scores.get(rule.intent) == 0.0
            && rule.pattern.is_match(text)
            && !vetoed(rule.intent, text)
        {
            scores.set(rule.intent, RULE_SCORE);
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(text: &str) -> Vec<Intent> {
        match_rules(text).above(0.5)
    }

    #[test]
    fn each_intent_fires_on_clear_wording() {
        let cases: &[(&str, Intent)] = &[
            ("can I talk to a real person", Intent::HumanRequest),
            ("human please", Intent::HumanRequest),
            ("agent", Intent::HumanRequest),
            ("get me someone from billing", Intent::HumanRequest),
            ("is there a human I can chat with?", Intent::HumanRequest),
            ("I don't want to talk to a bot", Intent::HumanRequest),
            ("transfer me to customer service", Intent::HumanRequest),
            ("put me through to your support team", Intent::HumanRequest),
            ("I was charged twice this month", Intent::Problem),
            ("this is the worst service ever", Intent::Problem),
            ("my package still hasn't arrived", Intent::Problem),
            ("third time I'm asking this", Intent::Problem),
            ("I want to cancel my subscription", Intent::CancelRefund),
            ("I want my money back", Intent::CancelRefund),
            ("my lawyer will hear about this", Intent::LegalThreat),
            ("I'm going to post this on twitter", Intent::LegalThreat),
            ("reporting you to the BBB", Intent::LegalThreat),
            (
                "our checkout is down and we're losing sales",
                Intent::Urgency,
            ),
            ("need this fixed ASAP", Intent::Urgency),
            ("how do I file a formal complaint", Intent::Complaint),
            (
                "I want to lodge a complaint about the driver",
                Intent::Complaint,
            ),
            ("my account was hacked", Intent::AccountSecurity),
            (
                "there's a charge I didn't make on my card",
                Intent::AccountSecurity,
            ),
        ];
        for (text, intent) in cases {
            assert!(hits(text).contains(intent), "{text:?} -> {:?}", hits(text));
        }
    }

    #[test]
    fn near_misses_stay_silent() {
        let quiet = [
            "How many people can I add to my team plan?",
            "what does the user agent field mean",
            "what's your refund policy for digital items?",
            "How do I reset my password?",
            "can my lawyer get a copy of the invoice",
            "is it urgent to update to v2?",
            "thanks, that helped!",
            "what are your opening hours",
            "I forgot my password",
            "I want to leave a review",
            "do you have a complaints policy page",
            "how do I contact customer service",
            "I need to speak with customer support, what is the number",
        ];
        for text in quiet {
            assert!(hits(text).is_empty(), "{text:?} -> {:?}", hits(text));
        }
    }
}
