"""The datasets, embedded or read from files the user points to; nothing is downloaded.

* :mod:`~lrcourse.data.images`: scikit-learn's digits (always there) and CIFAR-10's python batches;
* :mod:`~lrcourse.data.text`: Python's own documentation text (always there) and the Penn Treebank.
"""
