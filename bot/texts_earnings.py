"""Worker-facing strings of the earnings features, in French and English (see bot/texts.py)."""

EARNINGS: dict[str, dict[str, str]] = {
    "balance": {
        "fr": (
            "<b>Vos gains</b>\n\n"
            "Cette semaine : {week_tasks} tâches, {week_amount}\n"
            "Au total : {total_tasks} tâches, {total_amount}"
        ),
        "en": (
            "<b>Your earnings</b>\n\n"
            "This week: {week_tasks} tasks, {week_amount}\n"
            "In all: {total_tasks} tasks, {total_amount}"
        ),
    },
}
