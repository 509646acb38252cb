"""Strings of tasks with media, in French and English (see handlers/texts.py): the workers',
and the line /packs adds under a pack whose tasks are held or out of service for their media."""

MEDIA: dict[str, dict[str, str]] = {
    "media_instructions": {
        "fr": "<b>{title}</b> : les consignes\n\n{instructions}",
        "en": "<b>{title}</b>: the instructions\n\n{instructions}",
    },
    "media_unavailable": {
        "fr": "⚠️ Le média de cette tâche ne peut pas être affiché. Passez-la, s'il vous plaît.",
        "en": "⚠️ This task's media cannot be shown. Please skip it.",
    },
    "pack_media_off": {
        "fr": (
            "⚠️ Hors service à cause de leur média : {held} tâche(s) retenue(s) (fichier modifié"
            " depuis le chargement), {out} refusée(s) {failures} fois de suite par Telegram."
            " Rechargez le pack (load-pack --replace) ; le journal du bot nomme chaque tâche."
        ),
        "en": (
            "⚠️ Out of service for their media: {held} task(s) held (file changed since the"
            " load), {out} refused {failures} times in a row by Telegram. Reload the pack"
            " (load-pack --replace); the bot's log names each task."
        ),
    },
}
