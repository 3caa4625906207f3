"""What a person sees first: the tasks table and every command's --help with an example."""

import pytest

from electra_tasks.registry import all_tasks
from tests.conftest import invoke

CONTRACT_TASKS = ("glue-cola glue-sst2 glue-mrpc glue-stsb glue-qqp glue-mnli glue-qnli glue-rte glue-wnli "
                  "conll2003 squad squad-v2 cnn-dailymail swag copa classification tagging qa extractive-summarization "
                  "multiple-choice").split()
COMMANDS = ["tasks", "train", "eval", "predict", "pretrain-continue", "report", "export"]


def test_tasks_table_lists_every_contract_task_with_head_and_metrics():
    result = invoke("tasks", "--wide")
    assert result.exit_code == 0
    lines = result.stdout.split("\n\npretrain-continue")[0].splitlines()
    rows = {line.split()[0]: line for line in lines[1:] if line.strip()}
    assert set(CONTRACT_TASKS) <= set(rows)
    assert {t.name for t in all_tasks()} == set(rows)
    assert "ElectraForSequenceClassification" in rows["glue-sst2"] and "accuracy" in rows["glue-sst2"]
    assert "ElectraForQuestionAnswering" in rows["squad-v2"] and "best_f1_thresh" in rows["squad-v2"]
    assert "ElectraForTokenClassification" in rows["conll2003"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_shows_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and "electra-tasks " + command.split()[0] in result.stdout


def test_tasks_table_fits_an_80_column_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke("tasks")
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "accuracy_mm" in result.stdout  # MNLI's mismatched accuracy is listed with its metrics
    assert "google/electra-small-discriminator" in result.stdout and "--size tiny|small|base" in result.stdout


def test_version():
    from electra_tasks import __version__

    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"electra-tasks {__version__}"
