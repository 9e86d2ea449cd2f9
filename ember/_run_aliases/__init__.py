"""The folder ``ember run`` puts on ``sys.path`` (after the script's): it holds a ``torch``
and a ``torchvision`` package that stand for ember's, for the processes the program starts
with multiprocessing's spawn or forkserver methods. Those start a fresh interpreter, without
``ember run``'s import hook, and import the script again with the parent's ``sys.path``: its
``import torch`` finds the package here first, which installs the hook and puts ember's module
in its own place. (The ``ember run`` process itself never imports these: its hook answers
first.)
"""
