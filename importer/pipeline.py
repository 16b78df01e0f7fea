"""The steps after a load: metrics → segmentation → rules → safety → issue (SPEC §9).

The importer sits at the top of the app layers and knows none of these services by name: each
app declares the steps it provides on its `AppConfig` as `post_import_steps`, a mapping of step
name to the dotted path of a service taking keyword arguments `player_ids` (primary keys of the
players the import touched, or None for all) and `job_id`, and returning a short note for the
job (or anything else: then the note says for how many players it ran). Example:

    class PlayersConfig(AppConfig):
        post_import_steps = {"metrics": "players.services.metrics_refresh_after_import"}

A declared path that does not import raises at once (a typo fails loudly, in the tests first);
a step that no installed app declares is recorded as "skipped: no app provides it".
"""

from collections.abc import Callable
from functools import cache

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

POST_IMPORT_STEPS = ("metrics", "segmentation", "rules", "safety", "issue")


@cache
def post_import_services() -> dict[str, Callable]:
    """Step name → the service an installed app declared for it (ImproperlyConfigured on a
    bad path, an unknown step name or two apps declaring the same step)."""
    found: dict[str, Callable] = {}
    for config in apps.get_app_configs():
        for step, path in getattr(config, "post_import_steps", {}).items():
            if step not in POST_IMPORT_STEPS:
                raise ImproperlyConfigured(f"{config.name}: unknown post-import step {step!r}.")
            if step in found:
                raise ImproperlyConfigured(f"Two apps declare the post-import step {step!r}.")
            try:
                found[step] = import_string(path)
            except ImportError as error:
                raise ImproperlyConfigured(
                    f"{config.name}: post-import step {step!r} names {path!r}: {error}"
                ) from error
    return found


def post_import_step(*, step: str, job, player_ids: list[int] | None) -> str:
    """Run one post-import step for the players an import touched; → a note for the job."""
    service = post_import_services().get(step)
    if service is None:
        return "skipped: no app provides it"
    if player_ids is not None and not player_ids:
        return "skipped: no players affected"
    result = service(player_ids=player_ids, job_id=job.pk)
    count = "all" if player_ids is None else len(player_ids)
    return result if isinstance(result, str) else f"done for {count} players"
