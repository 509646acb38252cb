"""The worker loop's strings (welcome, consent, tasks, pause, help, language), in French and
English; the package (handlers/texts/__init__.py) joins them with the other features' files.
Values are HTML (Telegram parse mode): placeholders hold text that the renderer escapes first."""

from __future__ import annotations

WORKER: dict[str, dict[str, str]] = {
    "welcome": {
        "fr": (
            "<b>Bienvenue sur Petites Mains, {name}.</b>\n\n"
            "Vous étiquetez des données pour des équipes d'IA : lire un court texte, choisir "
            "la bonne réponse. Chaque réponse est payée, au montant annoncé ici.\n\n"
            "<b>Travaux ouverts</b>\n{packs}\n\n"
            "<b>Les règles</b>\n"
            "• Une tâche à la fois ; vous pouvez passer une tâche sans pénalité.\n"
            "• Une tâche reste réservée {lease} ; ensuite elle revient aux autres.\n"
            "• Certaines réponses sont vérifiées ; une erreur vous est expliquée "
            "et vous pouvez la contester.\n"
            "• Vos gains sont inscrits à chaque réponse : /balance.\n"
            "• /pause arrête l'envoi, /task le reprend, /help pour l'aide.\n\n"
            "En appuyant sur « J'accepte », vous acceptez ces règles."
        ),
        "en": (
            "<b>Welcome to Petites Mains, {name}.</b>\n\n"
            "You label data for AI teams: read a short text, pick the right answer. "
            "Every answer is paid, at the amount shown here.\n\n"
            "<b>Open work</b>\n{packs}\n\n"
            "<b>The rules</b>\n"
            "• One task at a time; you may skip a task at no cost.\n"
            "• A task stays yours for {lease}; then it goes back to the others.\n"
            "• Some answers are checked; a mistake is explained to you and you can dispute it.\n"
            "• Your earnings are recorded with each answer: /balance.\n"
            "• /pause stops the tasks, /task resumes, /help for help.\n\n"
            "By pressing “I agree” you accept these rules."
        ),
    },
    "welcome_back": {
        "fr": "<b>Bon retour, {name}.</b>\n\n<b>Travaux ouverts</b>\n{packs}",
        "en": "<b>Welcome back, {name}.</b>\n\n<b>Open work</b>\n{packs}",
    },
    "pack_line": {
        "fr": "• <b>{title}</b> : {reward} par tâche",
        "en": "• <b>{title}</b>: {reward} per task",
    },
    "more_packs": {
        "fr": "… et {n} autres travaux ouverts.",
        "en": "… and {n} more open packs.",
    },
    "no_packs": {
        "fr": "• Aucun travail ouvert pour l'instant ; nous vous préviendrons.",
        "en": "• No open work right now; we will let you know.",
    },
    "consent_button": {"fr": "✅ J'accepte", "en": "✅ I agree"},
    "consent_thanks": {
        "fr": "Merci ! Voici votre première tâche.",
        "en": "Thanks! Here is your first task.",
    },
    "skip_button": {"fr": "Passer ⏭", "en": "Skip ⏭"},
    "recorded": {"fr": "✅ Enregistré : <b>{label}</b>", "en": "✅ Recorded: <b>{label}</b>"},
    "recorded_toast": {
        "fr": "Enregistré : {label} (+{reward})",
        "en": "Recorded: {label} (+{reward})",
    },
    "skipped": {"fr": "⏭ Tâche passée", "en": "⏭ Task skipped"},
    "skipped_toast": {"fr": "Tâche passée", "en": "Task skipped"},
    "already_toast": {
        "fr": "Déjà enregistré : cette réponse compte une seule fois.",
        "en": "Already recorded: this answer counts once.",
    },
    "expired": {
        "fr": "⌛ Cette tâche avait expiré : la réponse n'est pas comptée.",
        "en": "⌛ This task had expired: the answer was not counted.",
    },
    "expired_toast": {
        "fr": "Tâche expirée : réponse non comptée.",
        "en": "Task expired: answer not counted.",
    },
    "invalid_toast": {
        "fr": "Ce bouton n'est plus valable.",
        "en": "This button is no longer valid.",
    },
    "not_yours_toast": {
        "fr": "Ce bouton ne vous appartient pas.",
        "en": "This button is not yours.",
    },
    "start_first_toast": {"fr": "Envoyez d'abord /start.", "en": "Send /start first."},
    "task_header": {"fr": "<b>{title}</b> · {reward}", "en": "<b>{title}</b> · {reward}"},
    "no_task": {
        "fr": "🎉 Plus de tâche pour l'instant. Nous vous préviendrons dès qu'il y a du "
        "nouveau travail.",
        "en": "🎉 No task left for now. We will tell you as soon as new work arrives.",
    },
    "paused": {
        "fr": "⏸ En pause : plus aucune tâche ne vous est envoyée. /task pour reprendre.",
        "en": "⏸ Paused: no more tasks are sent to you. /task to resume.",
    },
    "need_consent": {
        "fr": "Avant la première tâche, lisez les règles et acceptez-les : /start",
        "en": "Before your first task, read the rules and accept them: /start",
    },
    "new_work": {
        "fr": "🔔 Du nouveau travail est arrivé.",
        "en": "🔔 New work has arrived.",
    },
    "new_work_button": {"fr": "▶️ Commencer", "en": "▶️ Start"},
    "help": {
        "fr": (
            "<b>Petites Mains, mode d'emploi</b>\n\n"
            "Chaque tâche arrive avec des boutons : appuyez sur la bonne réponse, la suivante "
            "arrive aussitôt. « Passer » si vous ne savez pas : c'est sans pénalité. Certaines "
            "tâches demandent plusieurs réponses (cochez-les, puis « Terminé ») ou une réponse "
            "écrite (répondez par un message).\n\n"
            "/task : recevoir une tâche (reprendre)\n"
            "/pause : ne plus recevoir de tâche\n"
            "/balance : vos tâches et vos gains\n"
            "/score : votre score sur les questions de contrôle\n"
            "/language : changer de langue\n"
            "/start : les règles et les travaux ouverts"
        ),
        "en": (
            "<b>Petites Mains, how it works</b>\n\n"
            "Each task comes with buttons: press the right answer and the next one arrives at "
            "once. “Skip” if you are not sure: there is no penalty. Some tasks ask for several "
            "answers (tick them, then Done) or for a written answer (reply with a message).\n\n"
            "/task: get a task (resume)\n"
            "/pause: stop receiving tasks\n"
            "/balance: your tasks and earnings\n"
            "/score: your score on check questions\n"
            "/language: change language\n"
            "/start: the rules and the open work"
        ),
    },
    "language_prompt": {"fr": "Choisissez votre langue :", "en": "Choose your language:"},
    "language_set": {"fr": "Langue : français.", "en": "Language: English."},
    "cmd_task": {"fr": "Recevoir une tâche", "en": "Get a task"},
    "cmd_pause": {"fr": "Mettre en pause", "en": "Pause the tasks"},
    "cmd_balance": {"fr": "Mes gains", "en": "My earnings"},
    "cmd_help": {"fr": "Aide", "en": "Help"},
    "cmd_language": {"fr": "Changer de langue", "en": "Change language"},
    "cmd_start": {"fr": "Règles et travaux ouverts", "en": "Rules and open work"},
    "minutes": {"fr": "{n} min", "en": "{n} min"},
    "unknown_command": {
        "fr": "Je n'ai pas compris. /help pour l'aide.",
        "en": "I did not understand. /help for help.",
    },
}
