"""Strings of tasks with media, in French and English (handlers/texts/): the workers',
and the line /packs adds under a pack whose tasks are held or out of service for their media."""

MEDIA: dict[str, dict[str, str]] = {
    "media_instructions": {
        "fr": "<b>{title}</b> : les consignes\n\n{instructions}",
        "en": "<b>{title}</b>: the instructions\n\n{instructions}",
    },
    "no_task_media": {
        "fr": (
            "⚠️ Les tâches suivantes ne peuvent pas être affichées pour l'instant (image ou son"
            " indisponible). Envoyez /task pour continuer."
        ),
        "en": (
            "⚠️ The next tasks cannot be shown right now (picture or sound unavailable). Send"
            " /task to go on."
        ),
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
    "op_media_held": {
        "fr": (
            "⚠️ Pack <b>{pack}</b>, tâche {task} : le fichier {file} n'est plus celui qui a été"
            " chargé ({reason}). La tâche est retenue : elle n'est plus distribuée, pas plus que"
            " celles qui suivraient (/packs les compte). Rechargez le pack (load-pack --replace)"
            " pour les remettre en service."
        ),
        "en": (
            "⚠️ Pack <b>{pack}</b>, task {task}: {file} {reason}. The task is held: no longer"
            " handed out, nor are others like it (/packs counts them). Reload the pack"
            " (load-pack --replace) to put them back."
        ),
    },
    "op_media_out": {
        "fr": (
            "⚠️ Pack <b>{pack}</b> : Telegram a refusé {failures} fois de suite le média de la"
            " tâche {task} ({file}) : {reason}. La tâche est hors service (/packs compte celles"
            " qui le sont). Corrigez le média et rechargez le pack (load-pack --replace)."
        ),
        "en": (
            "⚠️ Pack <b>{pack}</b>: Telegram refused the media of task {task} ({file})"
            " {failures} times in a row: {reason}. The task is out of service (/packs counts"
            " such tasks). Fix the media and reload the pack (load-pack --replace)."
        ),
    },
}
