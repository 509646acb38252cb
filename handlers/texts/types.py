"""Worker-facing strings of the answer types (multi_choice, rating, text) and their nudges, in
French and English (handlers/texts/)."""

TYPES: dict[str, dict[str, str]] = {
    "done_button": {"fr": "✔️ Terminé", "en": "✔️ Done"},
    "multi_prompt": {
        "fr": "Cochez tout ce qui s'applique, puis « Terminé ».",
        "en": "Tick everything that applies, then Done.",
    },
    "rating_prompt": {
        "fr": "Votre note, de {low} à {high} :",
        "en": "Your rating, from {low} to {high}:",
    },
    "text_prompt": {
        "fr": "✍️ Répondez par un message ({low} à {high} caractères).",
        "en": "✍️ Reply with a message ({low} to {high} characters).",
    },
    "text_prompt_code": {
        "fr": "Touchez le texte pour le copier.",
        "en": "Tap the text to copy it.",
    },
    "nudge_buttons": {
        "fr": "Cette tâche se répond avec les boutons sous la question : rien n'est enregistré.",
        "en": "This task is answered with the buttons under it: nothing was recorded.",
    },
    "nudge_select_first": {
        "fr": "Cochez au moins une option, puis « Terminé ».",
        "en": "Tick at least one option, then Done.",
    },
    "nudge_selection_changed": {
        "fr": "Votre sélection a changé : vérifiez-la, puis « Terminé ».",
        "en": "Your selection changed: check it, then Done.",
    },
    "nudge_length": {
        "fr": (
            "Votre réponse fait {got} caractères : il en faut de {low} à {high}. Rien n'est"
            " enregistré ; envoyez-la à nouveau."
        ),
        "en": (
            "Your answer has {got} characters: it needs {low} to {high}. Nothing was"
            " recorded; please send it again."
        ),
    },
    "nudge_text_expected": {
        "fr": (
            "Cette tâche attend une réponse écrite : un message texte de {low} à {high}"
            " caractères (pas d'autocollant ni de photo). Rien n'est enregistré."
        ),
        "en": (
            "This task expects a written answer: a text message of {low} to {high}"
            " characters (no sticker or photo). Nothing was recorded."
        ),
    },
    "nudge_reply_expected": {
        "fr": "Cette tâche se répond par un message texte : écrivez votre réponse.",
        "en": "This task is answered with a text message: write your answer.",
    },
    "text_late": {
        "fr": (
            "⌛ Trop tard pour cette tâche : le délai était passé, la réponse n'est pas comptée."
        ),
        "en": "⌛ Too late for this task: its time had run out, the answer does not count.",
    },
    "text_already": {
        "fr": "Cette tâche a déjà votre réponse : elle compte une fois.",
        "en": "This task already has your answer: it counts once.",
    },
    "text_not_yours": {
        "fr": "Ce message ne répond à aucune de vos tâches en cours : rien n'est enregistré.",
        "en": "This message answers none of your open tasks: nothing was recorded.",
    },
}
