"""The models koenbert reads (--ko, --en, --student, --ko-teacher, --en-teacher): named as `bench run --model` names
a model (a hub id, a local folder or a models.yaml name), resolved once (harness/run/models.py) and loaded from
``ResolvedModel.path``: the cache folder of one hub commit, or the folder itself. Reports and the saved student
name each model by its id and revision (hub id and commit, or a local folder's portable id and sha256), never a
path of this machine.
"""

from __future__ import annotations

from typing import Type

from harness.core import checked
from harness.run.models import ResolvedModel


def resolve(name: str, flag: str, error: Type[Exception]) -> ResolvedModel:
    """``name`` as ``bench run --model`` reads it; a model that cannot be had raises ``error`` naming ``flag``."""
    from harness.run.models import resolve as resolve_model

    try:
        return resolve_model(str(name), flag=flag)
    except checked.InputError as err:
        message = str(err)  # most name the flag already (--ko './x': no such model folder)
        raise error(message if message.startswith(flag) else f"{flag}: {message}") from None


def check_distinct(first: tuple[str, ResolvedModel], second: tuple[str, ResolvedModel], error: Type[Exception],
                   fix: str) -> None:
    """Two roles that need two models (``(flag, model)`` each) given one: the same folder, a copy of it, or the same hub
    commit (the same revision); raises ``error`` naming both flags and ``fix``."""
    (flag_a, a), (flag_b, b) = first, second
    if a.revision == b.revision:
        raise error(f"{flag_a} and {flag_b} are the same model ({shown(a)}); {fix}")


def provenance(model: ResolvedModel) -> dict[str, str]:
    """What a report says of a model: ``{"id", "revision", "source"}``."""
    return model.as_record()


def shown(model: ResolvedModel) -> str:
    """``id@revision``: a hub id and its commit, or a local folder's portable id and its sha256."""
    return f"{model.id}@{model.revision}"
