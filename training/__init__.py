"""Training code for boilerclf (installed as ``boilerclf_training``).

``datasets`` reads labelled dataset folders, ``build`` turns them into cached
line matrices with labels, ``train`` fits models, runs leave-one-dataset-out
evaluation and writes ``models/`` with the model card.
"""
