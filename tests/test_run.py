"""``ember run SCRIPT``: PyTorch programs, unchanged, run on ember as ``python SCRIPT`` runs them.

Each test writes a small program into a temporary folder and runs it in a fresh process with
``python -m ember run``, as a user would; one program also runs under real PyTorch, and both
must print the same numbers.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ember
from ember import _run

ROOT = Path(ember.__file__).resolve().parents[1]


def run(args, cwd, python_args=("-m", "ember", "run")):
    """``python -m ember run ARGS`` in ``cwd`` with this checkout's ember first on the path."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *python_args, *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def test_torch_and_torchvision_imports_are_embers_modules(tmp_path):
    script = write(tmp_path / "imports.py", """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.utils.data
        import torchvision
        import torchvision.transforms as T
        from torch import nn as nn_from, optim
        from torch.utils.data import DataLoader, TensorDataset
        from torchvision import datasets, transforms
        import ember

        assert torch is ember and nn is ember.nn and nn_from is ember.nn
        assert F is ember.nn.functional and optim is ember.optim
        assert torch.utils.data is ember.utils.data and DataLoader is ember.utils.data.DataLoader
        assert TensorDataset is ember.utils.data.TensorDataset
        assert torchvision is ember.vision and T is ember.vision.transforms
        assert datasets is ember.vision.datasets and transforms is ember.vision.transforms
        print(type(torch.zeros(2)), torch.nn.Linear(2, 3))
    """)
    result = run([script], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("<class 'ember.Tensor'> Linear(in_features=2, out_features=3, "
                             "bias=True)\n")


def test_the_script_runs_as_python_runs_it(tmp_path):
    """``__main__``, ``__file__``, ``sys.argv`` and the script's folder first on
    ``sys.path`` (so that modules beside it import), from any current folder."""
    write(tmp_path / "prog" / "helper.py", "VALUE = 42\n")
    script = write(tmp_path / "prog" / "main.py", """
        import sys
        import helper
        print(__name__, __file__, sys.argv, sys.path[0], helper.VALUE, sep="\\n")
    """)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run([script, "--epochs", "3", "-x", "--help", "data"], elsewhere)
    assert result.returncode == 0, result.stderr
    name, file, argv, path0, value = result.stdout.splitlines()
    assert (name, file, value) == ("__main__", str(script), "42")
    assert argv == str([str(script), "--epochs", "3", "-x", "--help", "data"])
    assert path0 == str((tmp_path / "prog").resolve())


def test_a_script_given_by_a_relative_path(tmp_path):
    """``__file__`` is absolute, as Python makes a main script's; the folder still counts."""
    write(tmp_path / "sub" / "near.py", "WHERE = 'near'\n")
    write(tmp_path / "sub" / "relative.py", """
        import sys
        import near
        print(__file__, sys.argv[1:], sys.path[0], near.WHERE)
    """)
    result = run([os.path.join("sub", "relative.py"), "a"], tmp_path)
    assert result.returncode == 0, result.stderr
    sub = tmp_path.resolve() / "sub"
    assert result.stdout == f"{tmp_path / 'sub' / 'relative.py'} ['a'] {sub} near\n"


def test_an_uncaught_exception_prints_the_scripts_traceback_and_exits_1(tmp_path):
    script = write(tmp_path / "fails.py", """
        def inner():
            raise ValueError("boom")

        inner()
    """)
    result = run([script], tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1] == f'  File "{script}", line 5, in <module>'
    assert lines[-1] == "ValueError: boom"
    assert "runpy" not in result.stderr and "_run.py" not in result.stderr  # ember's frames


@pytest.mark.parametrize("call, code, stderr", [("sys.exit(3)", 3, ""), ("sys.exit()", 0, ""),
                                                ("sys.exit('bad input')", 1, "bad input\n")])
def test_sys_exit_passes_its_status_through(tmp_path, call, code, stderr):
    script = write(tmp_path / "exits.py", f"import sys\nprint('before')\n{call}\nprint('no')\n")
    result = run([script], tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (code, "before\n", stderr)


def test_a_module_ember_lacks_names_both_modules(tmp_path):
    script = write(tmp_path / "missing.py", "import torch.foo\n")
    result = run([script], tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ModuleNotFoundError: No module named 'torch.foo': ember has no 'ember.foo' to run in "
        "its place (ember run)")
    script = write(tmp_path / "caught.py", """
        try:
            from torchvision import nothing_here
        except ImportError as error:
            print(type(error).__name__)
    """)
    assert run([script], tmp_path).stdout == "ImportError\n"


def test_a_missing_script_is_an_error_of_the_command(tmp_path):
    result = run(["nowhere.py"], tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"ember run: error: can't open file '{tmp_path / 'nowhere.py'}': "
                             "[Errno 2] No such file or directory\n")


TRAINING = """
    import sys
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(3, 4)
            self.fc2 = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    def main():
        device = (torch.accelerator.current_accelerator().type
                  if torch.accelerator.is_available() else "cpu")
        model = Net()
        with torch.no_grad():  # the same start in both libraries, whose generators differ
            for i, p in enumerate(model.parameters()):
                p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1))
        model.to(device)
        x = torch.linspace(-1, 1, 24).reshape(8, 3)
        y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
        loader = DataLoader(TensorDataset(x, y), batch_size=4)
        opt = torch.optim.SGD(model.parameters(), lr=float(sys.argv[1]), momentum=0.9)
        for epoch in range(3):
            for xb, yb in loader:
                opt.zero_grad()
                loss = F.cross_entropy(model(xb.to(device)), yb.to(device))
                loss.backward()
                opt.step()
            print(f"epoch {epoch} loss {loss.item():.4f}")  # float32: 4 places agree
        print(model(x[:2].to(device)).argmax(dim=1).tolist())

    if __name__ == "__main__":
        main()
"""


def test_a_pytorch_training_program_prints_pytorchs_numbers(tmp_path):
    script = write(tmp_path / "train.py", TRAINING)
    on_ember = run([script, "0.5"], tmp_path)
    assert on_ember.returncode == 0, on_ember.stderr
    on_torch = run([script, "0.5"], tmp_path, python_args=())
    assert on_torch.returncode == 0, on_torch.stderr
    assert on_ember.stdout == on_torch.stdout
    assert on_ember.stdout.count("loss") == 3


def test_spawned_processes_get_ember_too(tmp_path):
    """DataLoader workers and Processes started by spawn import the script again, in a fresh
    interpreter: their ``import torch`` must give ember as well."""
    script = write(tmp_path / "spawns.py", """
        import multiprocessing
        import torch
        from torch.utils.data import DataLoader, Dataset

        class Squares(Dataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return torch.tensor([float(i * i)])

        def child(queue):
            import torch.nn
            queue.put((torch.__name__, torch.nn.__name__, type(torch.ones(1)).__name__))

        if __name__ == "__main__":
            loader = DataLoader(Squares(), batch_size=2, num_workers=2,
                                multiprocessing_context="spawn")
            print([batch.flatten().tolist() for batch in loader])
            context = multiprocessing.get_context("spawn")
            queue = context.Queue()
            process = context.Process(target=child, args=(queue,))
            process.start()
            print(queue.get(timeout=60))
            process.join()
    """)
    result = run([script], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[[0.0, 1.0], [4.0, 9.0]]\n('ember', 'ember.nn', 'Tensor')\n"


def test_ember_name():
    assert _run.ember_name("torch") == "ember"
    assert _run.ember_name("torch.nn.functional") == "ember.nn.functional"
    assert _run.ember_name("torchvision") == "ember.vision"
    assert _run.ember_name("torchvision.transforms") == "ember.vision.transforms"
    assert _run.ember_name("torchaudio") is None and _run.ember_name("torch_geometric") is None
    assert _run.ember_name("numpy") is None


def test_the_hook_refuses_a_process_that_imported_pytorch():
    """The tests import PyTorch itself, so this process must be refused."""
    assert "torch" in sys.modules
    with pytest.raises(RuntimeError, match="torch is already imported in this process"):
        _run.install()
    assert not any(isinstance(finder, _run.TorchAliases) for finder in sys.meta_path)
