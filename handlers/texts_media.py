"""Worker-facing strings of tasks with media, in French and English (see handlers/texts.py)."""

MEDIA: dict[str, dict[str, str]] = {
    "media_instructions": {
        "fr": "<b>{title}</b> : les consignes\n\n{instructions}",
        "en": "<b>{title}</b>: the instructions\n\n{instructions}",
    },
    "media_unavailable": {
        "fr": "⚠️ Le média de cette tâche ne peut pas être affiché. Passez-la, s'il vous plaît.",
        "en": "⚠️ This task's media cannot be shown. Please skip it.",
    },
}
