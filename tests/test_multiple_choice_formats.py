"""Multiple choice on the public sets' own layouts (tiny files built as each set publishes them):
HellaSwag, CommonsenseQA/OpenBookQA, Social IQa (1-based and lettered), WinoGrande, PIQA, RACE;
the label base decided per file and counted; one line for what cannot be read."""

import json

import pytest

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions
from electra_tasks.registry import get_task
from electra_tasks.tasks.base import FAMILIES

ONE_BASED = "1-based labels (no 0; some equal to the number of choices) read as choice indices from 0"


def load(for_training=True, **options):
    task = get_task("multiple-choice")
    return FAMILIES[task.family].load(task, RunOptions(task="multiple-choice", **options), for_training=for_training)


def jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def repaired(data):
    return {(e["file"].rsplit("/", 1)[-1], e["repair"], e["count"]) for e in data.info["repairs"]}


HELLASWAG = [{"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.",
              "ctx_b": "he", "ctx": "A man is sitting on a roof. he", "split": "val", "split_type": "indomain",
              "label": 3, "endings": ["is using wrap.", "is ripping tiles.", "is holding a cube.", "starts pulling."],
              "source_id": "activitynet~v_-JhWjGDPHMY"},
             {"ind": 92, "activity_label": "Clean and jerk", "ctx_a": "A lady walks to a barbell.", "ctx_b": "she",
              "ctx": "A lady walks to a barbell. she", "split": "val", "split_type": "indomain", "label": 0,
              "endings": ["lifts it.", "sits down.", "eats.", "sleeps."], "source_id": "activitynet~v_x"}]


def test_hellaswag_labelled_and_test_files(tmp_path):
    test = [{k: v for k, v in r.items() if k != "label"} for r in HELLASWAG]  # the test split has no label
    data = load(train_file=jsonl(tmp_path / "val.jsonl", HELLASWAG), test_file=jsonl(tmp_path / "test.jsonl", test),
                context_column="ctx_a", question_column="ctx_b", choices_column="endings", id_column="ind")
    assert data.splits["train"]["label"] == [3, 0] and data.splits["test"]["label"] == [-1, -1]
    assert data.splits["train"][0]["context"] == "A man is sitting on a roof." and data.splits["train"][0]["question"] == "he"
    assert data.splits["test"]["id"] == ["24", "92"]


def test_commonsenseqa_and_openbookqa_choice_labels(tmp_path):
    choices = [{"label": x, "text": t} for x, t in zip("ABCDE", ["ignore", "enforce", "authoritarian", "yell", "avoid"])]
    csqa = [{"answerKey": "B", "id": "075e48", "question": {"question_concept": "punishing", "choices": choices,
                                                           "stem": "The sanctions seemed to what the efforts?"}}]
    data = load(train_file=jsonl(tmp_path / "csqa.jsonl", csqa), context_column="question.stem",
                choices_column="question.choices", label_column="answerKey")
    assert data.splits["train"]["label"] == [1] and data.splits["train"]["choice_labels"] == [list("ABCDE")]
    obqa = [{"id": "7-980", "question": {"stem": "The sun is responsible for", "choices": [
        {"text": "puppies learning", "label": "A"}, {"text": "plants sprouting", "label": "B"}]},
        "fact1": "the sun is the source of energy", "humanScore": "1.00", "clarity": "2.00", "answerKey": "B"}]
    data = load(train_file=jsonl(tmp_path / "obqa.jsonl", obqa), context_column="fact1",
                question_column="question.stem", choices_column="question.choices", label_column="answerKey")
    row = data.splits["train"][0]
    assert (row["context"], row["question"], row["label"]) == ("the sun is the source of energy",
                                                              "The sun is responsible for", 1)


SIQA = [{"context": "Cameron gathered her friends.", "question": "How would Others feel?", "answerA": "like attending",
         "answerB": "like staying home", "answerC": "a good friend", "label": label} for label in ("1", "3", "2")]
SIQA_COLUMNS = {"choice_columns": "answerA,answerB,answerC"}


def test_social_iqa_one_based_labels_are_read_and_counted(tmp_path):
    data = load(train_file=jsonl(tmp_path / "train.jsonl", SIQA),
                validation_file=jsonl(tmp_path / "dev.jsonl", SIQA[:1] + SIQA[2:]), **SIQA_COLUMNS)
    assert data.splits["train"]["label"] == [0, 2, 1]
    assert data.splits["validation"]["label"] == [0, 1]  # "1","2" alone cannot tell: it follows train.jsonl
    assert repaired(data) == {("train.jsonl", ONE_BASED, 3), ("dev.jsonl", ONE_BASED + " (as in the run's other files)", 2)}


def test_the_label_base_is_decided_over_the_whole_file_not_a_row_range(tmp_path):
    path = jsonl(tmp_path / "train.jsonl", SIQA)
    data = load(train_file=path + "[0:1]", validation_file=path + "[2:3]", **SIQA_COLUMNS)
    assert data.splits["train"]["label"] == [0] and data.splits["validation"]["label"] == [1]


def test_an_undecided_file_alone_is_0_based_unless_label_base_says(tmp_path):
    path = jsonl(tmp_path / "dev.jsonl", SIQA[:1] + SIQA[2:])  # labels 1, 2 of 3 choices: either base fits
    assert load(train_file=path, **SIQA_COLUMNS).splits["train"]["label"] == [1, 2]
    assert load(train_file=path, label_base="1", **SIQA_COLUMNS).splits["train"]["label"] == [0, 1]
    with pytest.raises(UserError, match=r"--label-base 2: expected 0 or 1"):
        load(train_file=path, label_base="2", **SIQA_COLUMNS)
    with pytest.raises(UserError, match=r"two.jsonl:1 \(field 'label'\): label '2' names no choice; expected an "
                                        r"index 0..1 \(--label-base 0\)"):  # detected, it would read as 1-based
        load(train_file=jsonl(tmp_path / "two.jsonl", [{"context": "c", "choices": ["a", "b"], "label": 2}]),
             label_base="0")


def test_a_0_based_file_with_a_label_equal_to_the_choice_count_names_both_rows(tmp_path):
    records = [{"context": "c", "choices": ["a", "b"], "label": 2}, {"context": "c", "choices": ["a", "b"], "label": 0}]
    with pytest.raises(UserError, match=r"t.jsonl:1 \(field 'label'\): label '2' names no choice; expected an index "
                                        r"0..1 \(this file's labels count from 0: .*t.jsonl:2 has 0\)"):
        load(train_file=jsonl(tmp_path / "t.jsonl", records))


def test_social_iqa_v14_letters_name_choices_by_position(tmp_path):
    records = [{**{k: v for k, v in r.items() if k != "label"}, "correct": "ABC"[int(r["label"]) - 1]} for r in SIQA]
    data = load(train_file=jsonl(tmp_path / "siqa.jsonl", records), label_column="correct", **SIQA_COLUMNS)
    assert data.splits["train"]["label"] == [0, 2, 1] and data.info["repairs"] == []
    with pytest.raises(UserError, match=r"x.jsonl:1 \(field 'correct'\): label 'D' names no choice; expected an "
                                        r"index 0..2 or a letter A..C"):
        load(train_file=jsonl(tmp_path / "x.jsonl", [{**records[0], "correct": "D"}]), label_column="correct",
             **SIQA_COLUMNS)


WINOGRANDE = [{"qID": "3QH-2", "sentence": "Ian ate Dennis's menudo because _ despised intestine.", "option1": "Ian",
               "option2": "Dennis", "answer": "2"},
              {"qID": "3QH-1", "sentence": "Ian ate Dennis's menudo because _ enjoyed intestine.", "option1": "Ian",
               "option2": "Dennis", "answer": "1"}]
WG_COLUMNS = {"context_column": "sentence", "choice_columns": "option1,option2", "label_column": "answer",
              "id_column": "qID"}


def test_winogrande_labels_and_its_empty_test_answers(tmp_path):
    test = [{**r, "answer": ""} for r in WINOGRANDE]
    data = load(train_file=jsonl(tmp_path / "train_xs.jsonl", WINOGRANDE), test_file=jsonl(tmp_path / "test.jsonl", test),
                **WG_COLUMNS)
    assert data.splits["train"]["label"] == [1, 0] and data.splits["test"]["label"] == [-1, -1]
    with pytest.raises(UserError, match=r"test.jsonl:1 \(field 'answer'\): missing label; expected an index 0..1 or "
                                        r"a letter A..B \(a file without answers is a --test-file\)"):
        load(train_file=str(tmp_path / "train_xs.jsonl"), validation_file=str(tmp_path / "test.jsonl"), **WG_COLUMNS)


def test_piqa_0_based_labels_stay(tmp_path):
    records = [{"goal": "When boiling butter, you can", "sol1": "Pour it onto a plate", "sol2": "Pour it into a jar",
                "label": 1}, {"goal": "To attach legs", "sol1": "Weld", "sol2": "Nail", "label": 0}]
    data = load(train_file=jsonl(tmp_path / "piqa.jsonl", records), context_column="goal", choice_columns="sol1,sol2")
    assert data.splits["train"]["label"] == [1, 0] and data.info["repairs"] == []


RACE = [{"answers": ["B", "C"], "options": [["a", "b", "c", "d"], ["e", "f", "g", "h"]],
         "questions": ["What did Nancy try to do?", "The girl lives with ___ ."], "article": "Last week I talked.",
         "id": "high19432.txt"},
        {"answers": ["A"], "options": [["w", "x", "y", "z"]], "questions": ["Which is true?"], "article": "Another.",
         "id": "middle1.txt"}]
RACE_COLUMNS = {"context_column": "article", "question_column": "questions", "choices_column": "options",
                "label_column": "answers"}


def test_race_articles_give_one_example_per_question(tmp_path):
    data = load(train_file=jsonl(tmp_path / "race.jsonl", RACE), **RACE_COLUMNS)
    train = data.splits["train"]
    assert train["id"] == ["high19432.txt-0", "high19432.txt-1", "middle1.txt-0"]
    assert train["label"] == [1, 2, 0] and train["question"][1] == "The girl lives with ___ ."
    assert train["choices"][1] == ["e", "f", "g", "h"] and train["context"][2] == "Another."
    flat = [{"example_id": "high19432.txt", "article": "Last week I talked.", "answer": "D", "question": "Q?",
             "options": ["a", "b", "c", "d"]}]  # the hub's ehovy/race rows: one question each, letters by position
    data = load(train_file=jsonl(tmp_path / "hub.jsonl", flat), context_column="article", choices_column="options",
                label_column="answer")
    assert data.splits["train"]["label"] == [3]


def test_race_with_mismatched_lists_is_one_line(tmp_path):
    bad = [{**RACE[0], "answers": ["B"]}]
    with pytest.raises(UserError, match=r"race.jsonl:1 \(field 'answers'\): 2 questions, so expected a list of 2 "
                                        r"answers, found \[\"B\"\]"):
        load(train_file=jsonl(tmp_path / "race.jsonl", bad), **RACE_COLUMNS)
    with pytest.raises(UserError, match=r"race.jsonl:1 \(field 'questions'\): a list of 2 questions, so "
                                        r"--choices-column must hold one list of choices per question"):
        load(train_file=str(tmp_path / "race.jsonl"), **{**RACE_COLUMNS, "choices_column": "article"})


def test_a_missing_gold_label_in_a_validation_file_is_one_line(tmp_path):
    good = {"context": "c", "choices": ["a", "b"], "label": 0}
    train = jsonl(tmp_path / "train.jsonl", [good, {**good, "label": 1}])
    with pytest.raises(UserError, match=r"dev.jsonl:2 \(field 'label'\): missing label"):
        load(train_file=train, validation_file=jsonl(tmp_path / "dev.jsonl", [good, {**good, "label": None}]))
    with pytest.raises(UserError, match=r"dev.jsonl:2 \(field 'label'\): no gold label \(-1\) while other validation "
                                        r"examples have one"):
        load(train_file=train, validation_file=jsonl(tmp_path / "dev.jsonl", [good, {**good, "label": -1}]))
    with pytest.raises(UserError, match=r"train.jsonl:1 \(field 'label'\): no gold label \(-1\); every training"):
        load(train_file=jsonl(tmp_path / "train.jsonl", [{**good, "label": -1}, good]))


def test_eval_of_an_undecided_file_follows_the_base_the_model_was_trained_with(tmp_path, tiny_model):
    from tests.conftest import invoke, run_cli

    train = jsonl(tmp_path / "train.jsonl", SIQA * 4)  # has "3" of 3 choices: 1-based
    out = tmp_path / "out"
    trained = invoke("train", "multiple-choice", "--model", tiny_model, "--train-file", train, "--output-dir", out,
                     "--max-steps", "1", "--choice-columns", "answerA,answerB,answerC")
    assert trained.exit_code == 0, trained.stderr
    assert json.loads((out / "config.json").read_text())["electra_tasks"]["label_base"] == 1
    dev = jsonl(tmp_path / "dev.jsonl", SIQA[:1] + SIQA[2:])  # "1", "2" alone: either base fits
    evaluated = run_cli("eval", "multiple-choice", "--model", out, "--validation-file", dev,
                        "--choice-columns", "answerA,answerB,answerC", "--output-dir", tmp_path / "eval")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "as the model was trained: --label-base 1" in evaluated.stderr
    predictions = [json.loads(line) for line in (tmp_path / "eval" / "predictions_validation.jsonl").read_text().splitlines()]
    accuracy = json.loads((tmp_path / "eval" / "metrics.json").read_text())["accuracy"]
    assert accuracy == sum(p["prediction"] == gold for p, gold in zip(predictions, [0, 1])) / 2  # read 1-based
