#!/usr/bin/env python3
"""Generates data/samples/: the documents, support chats and FAQ of Halvorsen
Instruments, a fictional maker of industrial sensors and of the Fieldline
monitoring service.  Deterministic (fixed seed); stdlib only.

    python3 scripts/gen_samples.py [OUT_DIR]

Facts (products, prices, warranty terms, error codes, plans, policies) live
in the tables below; documents, tickets and FAQ entries are rendered from them
with varied wording, as a real company's data would state them: product and
error-code pages, 900 incident reports and 400 knowledge-base notes that
restate product, error and plan facts in passing, and 3000 support chats
asking about them in phrasings of their own (short and long answers).  The FAQ
(76 prompt/completion pairs) is split with its own seed: 1/6 go to
heldout/faq.jsonl, never a training input.  The corpus is drawn without
looking at the split, chat questions never use an FAQ question template, and
main() refuses to write a corpus in which a held-out question occurs, so the
held-out questions test whether a model learned the facts from the training
text (tests/e2e/test_demo_samples.sh checks both properties independently).
"""
import json
import os
import random
import sys

SEED = 20261125
rng = random.Random(SEED)

PRODUCTS = [
    # name, kind, range, accuracy, battery, warranty months, price EUR, protocol
    ("TX-200", "temperature sensor", "-40 to 125 C", "0.1 C", "5 years", 24, 149, "LoRaWAN"),
    ("TX-210", "temperature sensor", "-60 to 150 C", "0.05 C", "4 years", 36, 219, "LoRaWAN"),
    ("HX-40", "humidity sensor", "0 to 100 %RH", "1.5 %RH", "3 years", 24, 129, "Zigbee"),
    ("PX-9", "pressure transmitter", "0 to 40 bar", "0.25 %", "mains powered", 36, 389, "Modbus"),
    ("VB-3", "vibration monitor", "10 Hz to 10 kHz", "2 %", "2 years", 24, 459, "LoRaWAN"),
    ("FL-7", "flow meter", "0.5 to 50 m3/h", "1 %", "mains powered", 48, 899, "Modbus"),
    ("GS-5", "gas detector", "0 to 1000 ppm CO", "5 ppm", "18 months", 12, 329, "NB-IoT"),
    ("LV-12", "level sensor", "0.2 to 12 m", "3 mm", "6 years", 24, 279, "NB-IoT"),
    ("GW-1", "gateway", "up to 500 devices", "n/a", "mains powered", 36, 599, "Ethernet"),
    ("GW-2", "gateway", "up to 2000 devices", "n/a", "mains powered", 48, 1190, "Ethernet"),
]

ERRORS = [
    ("E01", "sensor not calibrated", "run the calibration wizard in Fieldline under Devices > Calibrate"),
    ("E02", "battery low", "replace the battery with an original HB-2 cell within 14 days"),
    ("E03", "no radio link", "move the device within 300 metres of a gateway or add a repeater"),
    ("E04", "firmware mismatch", "update the gateway first, then the device, from Settings > Firmware"),
    ("E05", "probe disconnected", "reseat the probe cable and check the connector for corrosion"),
    ("E07", "clock drift", "resynchronise the gateway with an NTP server"),
    ("E09", "memory full", "export the local log and clear it from the device menu"),
    ("E11", "over range", "check that the measured value is inside the specified range of the model"),
    ("E12", "tamper detected", "inspect the housing seal and acknowledge the alarm in Fieldline"),
    ("E15", "certificate expired", "renew the device certificate under Security > Certificates"),
]

PLANS = [
    ("Basic", 4, 25, "30 days", "email support within 2 business days"),
    ("Team", 12, 200, "1 year", "email and chat support within 8 business hours"),
    ("Enterprise", 40, 5000, "5 years", "24/7 phone support with a 1 hour response"),
]

POLICIES = {
    "travel": [
        "Employees book travel through the Tripline portal at least 14 days in advance.",
        "Economy class is the rule for flights under 6 hours; premium economy is allowed above that.",
        "Hotel costs are reimbursed up to 140 EUR per night in Europe and 180 EUR elsewhere.",
        "Rail is preferred over flying for trips under 500 kilometres.",
        "The daily meal allowance is 45 EUR, receipts are not required for it.",
    ],
    "expenses": [
        "Expense reports are filed in Ledgerly within 30 days of the expense.",
        "Receipts are required for every item above 25 EUR.",
        "Managers approve expenses up to 2000 EUR; larger amounts need the finance director.",
        "Reimbursements are paid with the next monthly salary.",
        "Personal expenses on a company card must be repaid within 10 days.",
    ],
    "security": [
        "Laptops use full-disk encryption and lock after 5 minutes of inactivity.",
        "Passwords have at least 14 characters and multi-factor authentication is mandatory.",
        "Customer data never leaves the Frankfurt and Oslo data centres.",
        "Security incidents are reported to security@halvorsen.example within 1 hour.",
        "Access rights are reviewed every quarter by each team lead.",
    ],
    "leave": [
        "Full-time employees have 28 days of paid leave per year.",
        "Leave requests are made in Peoplebase at least 2 weeks ahead for periods over 3 days.",
        "Up to 5 unused days can be carried over to the next year.",
        "Parental leave is 16 weeks at full pay for every parent.",
        "Sick leave longer than 3 days needs a doctor's note.",
    ],
    "remote work": [
        "Employees may work remotely up to 3 days per week.",
        "The company pays a home office allowance of 600 EUR every two years.",
        "Core hours are from 10:00 to 15:00 Central European Time.",
        "Working from another country is allowed for up to 20 days per year.",
        "Team meetings are held on Tuesdays and are in person when possible.",
    ],
}

FIRST = ["Anna", "Jonas", "Maria", "Lukas", "Sofia", "Erik", "Lea", "Mats", "Ida", "Paul",
         "Nora", "Felix", "Clara", "Omar", "Hanna", "Tobias", "Mei", "Ravi", "Elena", "Tom"]
COMPANIES = ["Nordkraft Energy", "Baltic Cold Chain", "Vestby Water", "Alpine Dairy",
             "Rhine Chemicals", "Tallinn Port Authority", "Sunfield Greenhouses",
             "Karsten Pharma", "Oslo Metro", "Danube Brewing", "Lyon Data Centres",
             "Bergen Fisheries", "Graz Steelworks", "Utrecht Hospitals"]
SITES = ["warehouse", "cold store", "pump station", "boiler room", "clean room",
         "server hall", "greenhouse", "production line", "loading dock", "laboratory"]


def pick(xs):
    return xs[rng.randrange(len(xs))]


def product_doc(p):
    name, kind, rng_, acc, batt, war, price, proto = p
    lines = [f"# {name} {kind}", "",
             f"The {name} is a {kind} made by Halvorsen Instruments for industrial sites.", "",
             "## Specifications", "",
             f"- Measuring range: {rng_}", f"- Accuracy: {acc}",
             f"- Power: {batt}" if batt == "mains powered" else f"- Battery life: {batt}",
             f"- Connectivity: {proto}", f"- Warranty: {war} months",
             f"- List price: {price} EUR", "",
             "## Installation", ""]
    steps = [f"Mount the {name} on a flat surface away from direct heat sources.",
             f"Register the {name} in Fieldline by scanning the QR code on the label.",
             f"Pair the {name} with a gateway over {proto}.",
             "Wait until the status LED blinks green twice, then confirm the first reading.",
             "Set alarm thresholds under Devices > Alarms."]
    lines += [f"{i + 1}. {s}" for i, s in enumerate(steps)]
    lines += ["", "## Troubleshooting", ""]
    for code, what, fix in rng.sample(ERRORS, 4):
        lines.append(f"- **{code}** ({what}): {fix}.")
    lines += ["", "## Warranty", "",
              f"The {name} is covered for {war} months from the date of delivery. "
              "The warranty covers material and manufacturing defects; it does not cover "
              "damage from wrong installation, opened housings or non-original batteries.", ""]
    return "\n".join(lines)


def plan_doc():
    lines = ["# Fieldline subscription plans", "",
             "Fieldline is the monitoring service of Halvorsen Instruments. "
             "It collects readings from gateways, stores them and raises alarms.", ""]
    for name, users, devices, retention, support in PLANS:
        lines += [f"## {name}", "",
                  f"The {name} plan allows {users} users and {devices} devices, keeps data for "
                  f"{retention} and includes {support}.", ""]
    return "\n".join(lines)


def error_doc():
    lines = ["# Device error codes", "",
             "Every Halvorsen device shows an error code on its display and in Fieldline.", ""]
    for code, what, fix in ERRORS:
        lines += [f"## {code}: {what}", "", f"To resolve {code}, {fix}.", ""]
    return "\n".join(lines)


def policy_doc(topic, facts):
    intro = [f"# {topic.capitalize()} policy", "",
             f"This policy describes the {topic} rules that apply to every employee of "
             "Halvorsen Instruments. It is reviewed every year by the people team.", ""]
    body = []
    for f in facts:
        body.append(f)
    return "\n".join(intro + ["## Rules", ""] + [f"- {b}" for b in body] + [""])


# Each fact is stated in several phrasings, as a real company's documents and
# tickets would: the corpus generator draws them uniformly and never looks at
# the FAQ split below, so the held-out questions are answerable from the
# training text without ever appearing in it.  Chat questions never use the
# FAQ's question templates (main() checks that no held-out question text
# occurs anywhere in the training files).

def cap(s):
    return s[0].upper() + s[1:]


def product_fact_sentence(p):
    """one sentence restating one fact about product p, in a random phrasing"""
    name, kind, rng_, acc, batt, war, price, proto = p
    a = "an" if kind[0] in "aeiou" else "a"
    return pick([
        f"The {name} is {a} {kind}.",
        f"The {name} is {a} {kind} that connects over {proto}.",
        f"The {name} comes with a warranty of {war} months.",
        f"The warranty of the {name} is {war} months.",
        f"At {price} EUR the {name} is listed in the current price list.",
        f"The {name} costs {price} EUR.",
        f"The {name} talks {proto} to the gateway.",
        f"The {name} measures {rng_} with an accuracy of {acc}.",
        f"The accuracy of the {name} is {acc}.",
        f"The {name} ({kind}, {proto}, {war} months warranty, {price} EUR) was installed.",
    ])


def error_fact_sentence(e):
    code, what, fix = e
    return pick([
        f"Error {code} means {what}.",
        f"{code} stands for {what}.",
        f"To fix {code}, {fix}.",
        f"The fix for {code} ({what}) is to {fix}.",
        f"When a device shows {code}, {fix}.",
    ])


def plan_fact_sentence(pl):
    name, users, devices, retention, support = pl
    return pick([
        f"The {name} plan allows {devices} devices and {users} users.",
        f"The {name} plan keeps data for {retention}.",
        f"On the {name} plan data is kept for {retention} and up to {devices} devices can be connected.",
        f"The {name} plan includes {support}.",
    ])


def incident_report(i):
    p = pick(PRODUCTS)
    name, kind, rng_, acc, batt, war, price, proto = p
    code, what, fix = pick(ERRORS)
    plan = pick(PLANS)
    cust = pick(COMPANIES)
    site = pick(SITES)
    day = rng.randrange(1, 28)
    month = pick(["January", "February", "March", "April", "May", "June", "July",
                  "August", "September", "October", "November"])
    n = rng.randrange(2, 40)
    eng = pick(FIRST)
    age = rng.randrange(3, 60)
    under = "still under" if age < war else "out of"
    return "\n".join([
        f"# Incident report IR-{1000 + i}", "",
        f"On {month} {day}, {cust} reported that {n} {name} devices in their {site} "
        f"showed error {code} ({what}).", "",
        "## Analysis", "",
        f"{eng} from the support team checked the Fieldline logs. The devices had been "
        f"running for {age} months. The root cause was {what}. "
        f"{product_fact_sentence(p)} {error_fact_sentence((code, what, fix))}", "",
        f"The {name} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} with a warranty of {war} months, "
        f"so the devices were {under} warranty. {cust} is on the {plan[0]} plan. "
        f"{plan_fact_sentence(plan)}", "",
        "## Resolution", "",
        f"The customer was asked to {fix}. All devices reported normal readings "
        f"{rng.randrange(1, 48)} hours later.", ""])


def kb_article(i):
    """a short knowledge-base note: a few facts about products, errors and plans"""
    p, q = rng.sample(PRODUCTS, 2)
    e = pick(ERRORS)
    pl = pick(PLANS)
    title = pick([f"Choosing between the {p[0]} and the {q[0]}", f"Notes on the {p[0]}",
                  f"Field tips: {p[0]} and {e[0]}", f"Customer questions about the {p[0]}"])
    facts = [product_fact_sentence(p), product_fact_sentence(p), product_fact_sentence(q),
             error_fact_sentence(e), plan_fact_sentence(pl)]
    rng.shuffle(facts)
    return "\n".join([f"# KB-{2000 + i}: {title}", "", " ".join(facts), ""])


# chat questions per fact: (question templates, answer templates); {n} product,
# {c} error code.  None of them is a FAQ question template (faq_pairs).
def product_qa(p):
    name, kind, rng_, acc, batt, war, price, proto = p
    a = "an" if kind[0] in "aeiou" else "a"
    other = pick([k for k in sorted({x[1] for x in PRODUCTS}) if k != kind])
    return [
        ([f"How long is the warranty on the {name}?", f"How many months of warranty does the {name} have?",
          f"Is the {name} covered by a warranty, and for how long?", f"{name} warranty period?"],
         [f"The {name} has a warranty of {war} months from delivery.", f"{war} months.",
          f"{war} months from the date of delivery.", f"The warranty on the {name} is {war} months."]),
        ([f"How much is the {name}?", f"What is the list price of the {name}?",
          f"Price of the {name}, please?", f"What do you charge for one {name}?"],
         [f"The list price of the {name} is {price} EUR. Volume discounts start at 50 units.",
          f"{price} EUR.", f"One {name} costs {price} EUR."]),
        ([f"Which radio does the {name} use?", f"How does the {name} connect to the gateway?",
          f"What connectivity does the {name} have?", f"Does the {name} need a special network?"],
         [f"The {name} connects over {proto}.", f"{proto}.", f"It uses {proto}."]),
        ([f"Is the {name} {'an' if other[0] in 'aeiou' else 'a'} {other}?"],
         [f"No, the {name} is {a} {kind}.", f"No, it is {a} {kind}."]),
        ([f"What exactly is the {name}?", f"Can you tell me what the {name} is?", f"What is the {name} for?"],
         [f"The {name} is {a} {kind}.", f"{a.capitalize()} {kind}."]),
        ([f"How accurate is the {name}?", f"What precision does the {name} have?",
          f"What is the measuring range of the {name}?", f"Accuracy of the {name}?"],
         [f"The {name} measures {rng_} with an accuracy of {acc}.", f"{acc}.",
          f"The accuracy of the {name} is {acc}."]),
    ]


def error_qa(e, name):
    code, what, fix = e
    return [
        ([f"Hi, our {name} in the {pick(SITES)} shows {code}. What should we do?",
          f"We see {code} on several devices after the update, is this known?",
          f"What is {code} on a {name}?", f"{code} on the display, what is that?"],
         [f"Error {code} means {what}. Please {fix}. If the error comes back, reply to this "
          "ticket and we will send a replacement.", f"{cap(what)}.", f"Error {code} means {what}.",
          f"Yes. {code} ({what}) can appear after an update. Please {fix}."]),
        ([f"How can we clear {code}?", f"What is the fix for {code}?", f"How to resolve {code} on the {name}?"],
         [f"{cap(fix)}.", f"To resolve {code}, {fix}.", f"Please {fix}."]),
    ]


def plan_qa(pl):
    name, users, devices, retention, support = pl
    return [
        ([f"How many sensors can we connect on the {name} plan?", f"What is the device limit of {name}?"],
         [f"{devices} devices.", f"The {name} plan allows {devices} devices and {users} users."]),
        ([f"How long is data kept on the {name} plan?", f"What is the data retention of {name}?"],
         [f"{retention}.", f"The {name} plan keeps data for {retention}."]),
        ([f"What support comes with the {name} plan?"], [f"The {name} plan includes {support}."]),
    ]


SYSTEM = "You are the support assistant of Halvorsen Instruments."


def chat_record():
    p = pick(PRODUCTS)
    r = rng.random()
    if r < 0.55:
        qs, ans = pick(product_qa(p))
    elif r < 0.85:
        qs, ans = pick(error_qa(pick(ERRORS), p[0]))
    else:
        qs, ans = pick(plan_qa(pick(PLANS)))
    q = pick(qs)
    a = pick(ans)
    if rng.random() < 0.5:
        q = f"{q} ({pick(FIRST)}, {pick(COMPANIES)})"
    msgs = [{"role": "system", "content": SYSTEM}] if rng.random() < 0.5 else []
    msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    if rng.random() < 0.2:
        msgs += [{"role": "user", "content": "Thanks, that worked."},
                 {"role": "assistant", "content": "Glad to help. I am closing this ticket."}]
    return {"messages": msgs}


def faq_pairs():
    pairs = []
    for p in PRODUCTS:
        name, kind, rng_, acc, batt, war, price, proto = p
        pairs += [(f"What is the warranty of the {name}?", f"{war} months."),
                  (f"What does the {name} cost?", f"{price} EUR."),
                  (f"Which protocol does the {name} use?", f"{proto}."),
                  (f"What kind of device is the {name}?", f"A {kind}."),
                  (f"What is the accuracy of the {name}?", f"{acc}.")]
    for code, what, fix in ERRORS:
        pairs += [(f"What does error {code} mean?", f"{what.capitalize()}."),
                  (f"How do I fix error {code}?", f"{fix[0].upper() + fix[1:]}.")]
    for name, users, devices, retention, support in PLANS:
        pairs += [(f"How many devices does the {name} plan allow?", f"{devices} devices."),
                  (f"How long does the {name} plan keep data?", f"{retention}.")]
    return pairs


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data", "samples")
    docs = os.path.join(out, "docs")
    for p in PRODUCTS:
        write(os.path.join(docs, "products", f"{p[0].lower()}.md"), product_doc(p))
    write(os.path.join(docs, "fieldline-plans.md"), plan_doc())
    write(os.path.join(docs, "error-codes.md"), error_doc())
    for topic, facts in POLICIES.items():
        write(os.path.join(docs, "policies", f"{topic.replace(' ', '-')}.md"), policy_doc(topic, facts))
    for i in range(900):
        write(os.path.join(docs, "incidents", f"ir-{1000 + i}.md"), incident_report(i))
    with open(os.path.join(out, "support_chats.jsonl"), "w", encoding="utf-8") as f:
        for _ in range(3000):
            f.write(json.dumps(chat_record(), ensure_ascii=False) + "\n")
    for i in range(400):
        write(os.path.join(docs, "kb", f"kb-{2000 + i}.md"), kb_article(i))
    # the FAQ split has its own seed: the corpus above does not depend on it
    pairs = faq_pairs()
    random.Random(SEED + 1).shuffle(pairs)
    n_held = len(pairs) // 6
    held, train = pairs[:n_held], pairs[n_held:]
    # no held-out question may occur in any training file
    training_text = []
    for d, _, files in os.walk(docs):
        training_text += [open(os.path.join(d, f), encoding="utf-8").read() for f in files]
    training_text.append(open(os.path.join(out, "support_chats.jsonl"), encoding="utf-8").read())
    training_text.append("\n".join(q for q, _ in train))
    for q, _ in held:
        if any(q in t for t in training_text):
            sys.exit(f"gen_samples: held-out question '{q}' occurs in the training text")
    with open(os.path.join(out, "faq.jsonl"), "w", encoding="utf-8") as f:
        for q, a in train:
            f.write(json.dumps({"prompt": f"Question: {q}\nAnswer:", "completion": f" {a}"}) + "\n")
    os.makedirs(os.path.join(out, "heldout"), exist_ok=True)
    with open(os.path.join(out, "heldout", "faq.jsonl"), "w", encoding="utf-8") as f:
        for q, a in held:
            f.write(json.dumps({"prompt": f"Question: {q}\nAnswer:", "completion": f" {a}"}) + "\n")


if __name__ == "__main__":
    main()
