"""The model's lines in the page's language: `micrograd.words` sentences through the protocol.

Python writes English; a line the page shows its reader is made with `said`, which is the English
text itself (every caller and the CLI see a plain `str`) and remembers its template and values.
The playground sends them beside the text (`words`, `note_words`, `error_words`, a walk step's
`words`), and the page fills the catalogue's translation of the template with the values. These
tests read the messages the `Driver` (the server's and the exported page's) sends, and say them
in Chinese with the catalogue the way i18n.js's `t()` does.
"""

from __future__ import annotations

import json
import re

from micrograd import Value
from micrograd.playground.driver import Driver, graph_message
from micrograd.playground.session import Session
from micrograd.playground.strings import ZH
from micrograd.playground.walkmsg import walk_payload
from micrograd.words import Said, message_of, said, words_json


def in_chinese(sentence: dict | str, table: dict[str, str] = ZH) -> str:
    """A sentence as the page says it in Chinese: the template's translation, its values filled
    in (a value that is a sentence, said too)."""
    if isinstance(sentence, str):
        return sentence
    text = table.get(sentence["text"], sentence["text"])
    return re.sub(r"\{(\w+)\}", lambda m: in_chinese(sentence["params"][m.group(1)], table),
                  text)


def in_english(sentence: dict | str) -> str:
    return in_chinese(sentence, {})


def answers(driver: Driver, kind: str, **fields) -> list[dict]:
    return [json.loads(t) for t in driver.handle(kind, fields)]


def test_a_sentence_is_its_english_text_and_keeps_how_it_was_made():
    inner = said("softmax cross-entropy, label {k}", k=2)
    line = said("{loss}: as the chapter writes it", loss=inner)
    assert line == "softmax cross-entropy, label 2: as the chapter writes it"
    assert isinstance(line, str) and json.dumps(line) == json.dumps(str(line))
    assert words_json(line) == {"text": "{loss}: as the chapter writes it", "params": {
        "loss": {"text": "softmax cross-entropy, label {k}", "params": {"k": "2"}}}}
    assert words_json("a plain line") is None and words_json(str(line)) is None


def test_an_exceptions_message_is_its_sentence_when_it_was_said():
    assert isinstance(message_of(ValueError(said("{n} values", n=3))), Said)
    plain = message_of(ValueError("no sentence", 2))
    assert plain == str(ValueError("no sentence", 2)) and not isinstance(plain, Said)


def test_the_models_refusal_comes_with_its_sentence():
    driver = Driver(Session(None, "tape"))
    driver.hello()
    answers(driver, "clear")
    answers(driver, "step")
    error = next(m for m in map(json.loads, driver.train_slice(1e9)) if m["type"] == "error")
    assert error["message"].startswith("there are no training points")  # the English line
    assert in_chinese(error["words"]) == "没有训练点；请添加一些点，或者重新生成数据"


def test_a_diverged_models_graph_note_and_walk_error_come_as_sentences():
    driver = Driver(Session(None, "tape"))  # as test_playground_diverged_graph: lr 10, decay 1
    driver.hello()
    answers(driver, "configure", lr=10, weight_decay=1)
    for _ in range(2):
        answers(driver, "step")
        while driver.busy:
            driver.train_slice(1e9)
    answers(driver, "pick", index=20)
    message = json.loads(graph_message(driver.take_layout(), None))
    said_note = in_chinese(message["note_words"])
    assert "下溢为 0" in said_note and said_note.endswith("模型已发散：请降低学习率，然后按“重置”")
    walk = answers(driver, "walk")[0]
    assert walk["steps"] is None and walk["words"]["params"]["why"] == message["note_words"]
    assert in_chinese(walk["words"]) == f"逐步演示：{said_note}"


def test_a_walk_step_that_explains_itself_comes_as_a_sentence():
    a = Value(2.0, label="a")
    loss = a * a + a  # `a` receives three contributions
    loss.label = "loss"
    loss.backward()
    steps = walk_payload(loss)["steps"]
    assert all("words" not in s for s in steps if s["phase"] == "forward")  # formulas only
    start = next(s for s in steps if s["phase"] == "start")
    assert in_chinese(start["words"]) == "loss.grad = 1：输出对自身的导数就是 1"
    third = next(s for s in steps if s["contribution"] == 3)
    rule = third["text"].split(",")[0]  # a.grad += d(...)/da × (...).grad: a formula
    assert in_chinese(third["words"]).startswith(f"{rule}，第 3 份贡献，共 3 份（a 被使用了 3 次）")
    assert in_english(third["words"]) == third["text"]  # the page's English is Python's
