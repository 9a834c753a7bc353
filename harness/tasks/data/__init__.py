"""One canonical DatasetDict per task, from the hub or from local files, with its fingerprint.

``load(spec)`` returns ``train`` and ``validation`` in one schema per head, whatever
the source:

- sentence tasks: ``text_a`` (str), ``text_b`` (str, only when the spec maps it),
  ``label`` (int index into ``spec.dataset.labels``; float for regression)
- token tasks: ``tokens`` (list of str; KLUE-NER: characters, spaces included, as in
  the official file) and ``tags`` (list of int indexes into ``spec.dataset.labels``)

and what a record needs to say where they came from: the sha256 of every local file
read (named relative to ``--data-dir``) or the hub dataset's commit, one ``fingerprint``
over all of it, the label counts of both sides, and warnings about the scored split.

Labels are mapped by NAME, never by position: the hub's ClassLabel ints become names
through the dataset's features, a local file's raw values go through the spec's
``label_map`` (if any), and the name is then looked up in the spec's label list. The
hub and KLUE-baseline order the NLI and NER labels differently, so position would be
silently wrong.

A split expression is a split name with an optional slice, the same grammar and
rounding as ``datasets``' split slicing: ``train``, ``validation[:80%]``,
``train[:1000]``, ``validation[80%:]``, ``train[10%:20%]``. When a task's own spec
carves train and validation out of one split, the slices are taken from a seeded,
stratified order of its rows (``harness.tasks.carving``), never from file order. A user's
``--train-split``/``--eval-split`` keeps the ``datasets`` meaning: rows in file order.

Local files are read through ``harness.core.checked``: their paths must stay inside
``--data-dir``, and a file that is missing, not UTF-8 or not parseable is named
(relative to ``--data-dir``) in the error, which never quotes its content.

Where each part lives:

- ``loading``: ``load``, the checks of the scored split, ``fingerprint``, ``first_rows`` (``--limit``);
- ``hub_source``: a task's hub dataset; ``local_files``: a task's files under ``--data-dir``;
- ``readers``: the file formats (``READERS``, ``read_records``): a new format is one reader there;
- ``canonical``: raw columns -> the canonical schema, shared by both sources;
- ``splits``: split expressions and the carve of one split in two;
- ``loaded``: what a load gives (``LoadedData``) and how it fails (``DataError``).
"""

from harness.tasks.data.hub_source import from_hub_dataset
from harness.tasks.data.loaded import DataError, DataUnavailable, FileDigest, LoadedData
from harness.tasks.data.loading import fingerprint, first_rows, limit_deviations, load
from harness.tasks.data.local_files import read_local_file
from harness.tasks.data.readers import READERS, read_records
from harness.tasks.data.splits import SplitExpr, parse_split, select_split

__all__ = [
    "DataError",
    "DataUnavailable",
    "FileDigest",
    "LoadedData",
    "READERS",
    "SplitExpr",
    "fingerprint",
    "first_rows",
    "from_hub_dataset",
    "limit_deviations",
    "load",
    "parse_split",
    "read_local_file",
    "read_records",
    "select_split",
]
