"""The steps after a load: metrics → segmentation → rules → safety → issue (SPEC §9).

This is the one place where the post-import chain meets the other apps. Each step names the
service it calls as a dotted path; a step whose service is not installed yet is recorded in the
job as "skipped: … not installed" instead of failing the import. To plug in the rules engine,
point "rules" (and "safety", "issue") at a function taking `player_ids` (a list of player
primary keys, or None for all) and `job_id`, returning a short note for the job.
"""

from collections.abc import Callable

from django.utils.module_loading import import_string

POST_IMPORT_STEPS: dict[str, tuple[str, str]] = {
    # step: (dotted path of the service, what to call it when it is missing)
    "metrics": ("players.services.metrics_refresh", "metrics service"),
    "segmentation": ("players.services.segments_refresh", "segmentation service"),
    "rules": ("rewards.services.rules_run_after_import", "rules engine"),
    "safety": ("safety.services.safety_check_after_import", "rules engine"),
    "issue": ("rewards.services.rewards_issue_after_import", "rules engine"),
}


def _service(path: str) -> Callable | None:
    try:
        return import_string(path)
    except ImportError:
        return None


def post_import_step(*, step: str, job, player_ids: list[int] | None) -> str:
    """Run one post-import step for the players an import touched; → a note for the job."""
    path, label = POST_IMPORT_STEPS[step]
    service = _service(path)
    if service is None:
        return f"skipped: {label} not installed"
    if player_ids is not None and not player_ids:
        return "skipped: no players affected"
    if step in ("metrics", "segmentation"):
        result = service(player_ids=player_ids)
    else:
        result = service(player_ids=player_ids, job_id=job.pk)
    count = "all" if player_ids is None else len(player_ids)
    return str(result) if isinstance(result, str) else f"done for {count} players"
