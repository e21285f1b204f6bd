"""Training of the shipped denoisers (optional extra ``train``: torch, scikit-image).

One command per modality, reproducible from its seed::

    python -m simulator.ai_training --modality mr            # ~12 min on 2 CPU cores
    python -m simulator.ai_training --modality pet --quick   # seconds: a smoke run

Modules: :mod:`~.cases` (what the simulator scans: training and held-out cases, numpy
only), :mod:`~.data` (normalised pairs), :mod:`~.model` (the torch twin of
:class:`simulator.ai.cnn.ResidualCNN`), :mod:`~.train` (the loop), :mod:`~.__main__` (the
command, which writes ``weights/<modality>.npz`` and its ``.json`` record).
Importing this package does not import torch; its modules ``model`` and ``train`` do.
"""
