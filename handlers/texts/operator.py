"""The operators' strings (issue 11), French and English, joined to the catalogue by
handlers/texts/__init__.py.
Values are HTML; placeholders hold text escaped by the renderer."""

from __future__ import annotations

OPERATOR: dict[str, dict[str, str]] = {
    # -- menu and help -----------------------------------------------------------------------
    "cmd_packs": {"fr": "Packs : avancement et actions", "en": "Packs: progress and actions"},
    "cmd_stats": {"fr": "Graphique d'un pack", "en": "A pack's chart"},
    "cmd_export": {"fr": "Exporter les résultats", "en": "Export the results"},
    "cmd_workers": {"fr": "Travailleurs", "en": "Workers"},
    "cmd_worker": {"fr": "Un travailleur", "en": "One worker"},
    "cmd_disputes": {"fr": "Contestations ouvertes", "en": "Open disputes"},
    "cmd_broadcast": {"fr": "Message à tous", "en": "Message everyone"},
    "op_help": {
        "fr": (
            "<b>Opérateur</b>\n\n"
            "Envoyez un fichier de pack (JSON, JSONL ou CSV, jusqu'à {limit}) pour le charger.\n"
            "/packs : avancement, pause, reprise, clôture, export\n"
            "/stats PACK : graphique des réponses et de la confiance\n"
            "/export PACK : le fichier des résultats\n"
            "/workers : les travailleurs ; /worker ID : l'un d'eux, suspendre ou réintégrer\n"
            "/disputes : les contestations ouvertes\n"
            "/broadcast TEXTE : un message à tous les travailleurs actifs"
        ),
        "en": (
            "<b>Operator</b>\n\n"
            "Send a pack file (JSON, JSONL or CSV, up to {limit}) to load it.\n"
            "/packs: progress, pause, resume, close, export\n"
            "/stats PACK: chart of answers and trust\n"
            "/export PACK: the results file\n"
            "/workers: the workers; /worker ID: one of them, suspend or reinstate\n"
            "/disputes: open disputes\n"
            "/broadcast TEXT: a message to every active worker"
        ),
    },
    "op_expired_button": {
        "fr": "Ce bouton a expiré : recommencez la commande.",
        "en": "This button has expired: run the command again.",
    },
    "op_usage": {"fr": "Usage : {usage}", "en": "Usage: {usage}"},
    "op_no_pack": {
        "fr": "Aucun pack « {pack} ». /packs les liste.",
        "en": "No pack “{pack}”. /packs lists them.",
    },
    # -- uploads -----------------------------------------------------------------------------
    "up_not_a_pack": {
        "fr": "Ce fichier n'est pas un pack : envoyez un fichier .json, .jsonl ou .csv.",
        "en": "This file is not a pack: send a .json, .jsonl or .csv file.",
    },
    "up_too_big": {
        "fr": (
            "Fichier trop gros : {size}, au plus {limit} par Telegram. Découpez-le, ou chargez-le"
            " avec la ligne de commande (<code>python -m bot load-pack</code>)."
        ),
        "en": (
            "File too big: {size}, at most {limit} through Telegram. Split it, or load it with"
            " the command line (<code>python -m bot load-pack</code>)."
        ),
    },
    "up_empty": {
        "fr": "Le fichier est vide : rien à charger.",
        "en": "The file is empty: nothing to load.",
    },
    "up_not_utf8": {
        "fr": (
            "Le fichier n'est pas du texte UTF-8 (ligne {line}). Enregistrez-le en UTF-8"
            " (« CSV UTF-8 » dans un tableur) et renvoyez-le. Rien n'a été importé."
        ),
        "en": (
            "The file is not UTF-8 text (line {line}). Save it as UTF-8 (“CSV UTF-8” in a"
            " spreadsheet) and send it again. Nothing was imported."
        ),
    },
    "up_download_failed": {
        "fr": (
            "Le fichier n'a pas pu être téléchargé depuis Telegram. Renvoyez-le ; si cela"
            " recommence, le journal du bot dit pourquoi (réf. <code>{ref}</code>)."
        ),
        "en": (
            "The file could not be downloaded from Telegram. Send it again; if it happens"
            " again, the bot's log says why (ref <code>{ref}</code>)."
        ),
    },
    "up_local_unreadable": {
        "fr": (
            "Le serveur Bot API tourne en mode --local et garde ses fichiers là où le bot ne"
            " peut pas les lire : chargez ce pack avec <code>python -m bot load-pack</code>"
            " (réf. <code>{ref}</code>)."
        ),
        "en": (
            "The Bot API server runs in --local mode and keeps its files where the bot cannot"
            " read them: load this pack with <code>python -m bot load-pack</code>"
            " (ref <code>{ref}</code>)."
        ),
    },
    "up_failed": {
        "fr": (
            "Le chargement a échoué : rien n'a été importé. Réessayez ; le journal du bot dit"
            " pourquoi (réf. <code>{ref}</code>)."
        ),
        "en": (
            "The load failed: nothing was imported. Try again; the bot's log says why"
            " (ref <code>{ref}</code>)."
        ),
    },
    "up_checking": {"fr": "⏳ Vérification de {name}…", "en": "⏳ Checking {name}…"},
    "up_errors": {
        "fr": "❌ <b>Pack {pack} non importé</b> : {n} erreur(s). Rien n'a été importé.\n",
        "en": "❌ <b>Pack {pack} not imported</b>: {n} error(s). Nothing was imported.\n",
    },
    "up_more_errors": {"fr": "… et {n} autres erreurs.", "en": "… and {n} more errors."},
    "up_loaded": {"fr": "✅ <b>Pack {pack} chargé.</b>", "en": "✅ <b>Pack {pack} loaded.</b>"},
    "up_replaced": {
        "fr": (
            "✅ <b>Pack {pack} remplacé</b> ({added} ajoutées, {updated} mises à jour,"
            " {retired} retirées ; réponses gardées)."
        ),
        "en": (
            "✅ <b>Pack {pack} replaced</b> ({added} added, {updated} updated, {retired} retired;"
            " answers kept)."
        ),
    },
    "up_confirm": {
        "fr": (
            "⚠️ <b>Le pack {pack} existe déjà.</b> Le fichier est valide ; le remplacer ?"
            " Les réponses déjà données sont gardées."
        ),
        "en": (
            "⚠️ <b>Pack {pack} already exists.</b> The file is valid; replace it? Answers already"
            " given are kept."
        ),
    },
    "up_replace_button": {"fr": "Remplacer", "en": "Replace"},
    "up_cancel_button": {"fr": "Annuler", "en": "Cancel"},
    "up_cancelled": {"fr": "Rien n'a été changé.", "en": "Nothing was changed."},
    "up_summary": {
        "fr": (
            "Tâches : {tasks} · contrôles : {gold} · recouvrement : {overlap}\n"
            "Récompense : {reward} par réponse\n"
            "Budget : {budget} ({answers} réponses + {gold_answers} réponses de contrôle"
            " à {gold_rate})\n"
            "Heures de travail estimées : {hours}\n"
            "Taux horaire implicite : {hourly}"
        ),
        "en": (
            "Tasks: {tasks} · check questions: {gold} · overlap: {overlap}\n"
            "Reward: {reward} per answer\n"
            "Budget: {budget} ({answers} answers + {gold_answers} check answers at {gold_rate})\n"
            "Estimated hours of work: {hours}\n"
            "Implied hourly rate: {hourly}"
        ),
    },
    "up_unknown_yet": {
        "fr": "connu après les premières réponses",
        "en": "known after the first answers",
    },
    "up_from_crowd": {
        "fr": "{value} (au rythme médian des autres packs, {seconds} s par tâche)",
        "en": "{value} (at the median pace on other packs, {seconds} s per task)",
    },
    "up_from_pack": {
        "fr": "{value} ({seconds} s par tâche, médiane du pack)",
        "en": "{value} ({seconds} s per task, the pack's median)",
    },
    "up_fair_pay_warning": {
        "fr": (
            "⚠️ <b>Paie sous le minimum</b> : {hourly} de l'heure, sous MIN_HOURLY_RATE {floor}."
            " Augmentez la récompense, ou activez top_up."
        ),
        "en": (
            "⚠️ <b>Pay below the floor</b>: {hourly} an hour, below MIN_HOURLY_RATE {floor}."
            " Raise the reward, or set top_up."
        ),
    },
    "up_break_even": {
        "fr": "Au-delà de {seconds} s par tâche, la paie passe sous MIN_HOURLY_RATE {floor}.",
        "en": "Above {seconds} s per task, the pay falls below MIN_HOURLY_RATE {floor}.",
    },
    # -- /packs ------------------------------------------------------------------------------
    "packs_none": {
        "fr": "Aucun pack chargé. Envoyez un fichier de pack pour commencer.",
        "en": "No pack loaded yet. Send a pack file to start.",
    },
    "packs_more": {
        "fr": "Les {shown} derniers chargés ; <code>python -m bot packs</code> les liste tous.",
        "en": "The last {shown} loaded; <code>python -m bot packs</code> lists them all.",
    },
    "packs_header": {"fr": "<b>Packs</b> ({n})", "en": "<b>Packs</b> ({n})"},
    "op_pack_line": {
        "fr": (
            "<b>{title}</b> <code>{pack}</code> · {status}\n"
            "{answers}/{wanted} réponses ({percent}) · {done}/{tasks} tâches finies\n"
            "Dépensé : {spent} · actifs (1 h) : {active} · médiane : {median} · {hourly}"
        ),
        "en": (
            "<b>{title}</b> <code>{pack}</code> · {status}\n"
            "{answers}/{wanted} answers ({percent}) · {done}/{tasks} tasks done\n"
            "Spent: {spent} · active (1 h): {active} · median: {median} · {hourly}"
        ),
    },
    "pack_hourly": {"fr": "{rate}/h", "en": "{rate}/h"},
    "pack_below_floor": {"fr": "⚠️ sous le minimum", "en": "⚠️ below the floor"},
    "status_active": {"fr": "actif", "en": "active"},
    "status_paused": {"fr": "en pause", "en": "paused"},
    "status_closed": {"fr": "clos", "en": "closed"},
    "pack_details_button": {"fr": "Détails", "en": "Details"},
    "pack_pause_button": {"fr": "⏸ Pause", "en": "⏸ Pause"},
    "pack_resume_button": {"fr": "▶️ Reprendre", "en": "▶️ Resume"},
    "pack_close_button": {"fr": "⏹ Clore", "en": "⏹ Close"},
    "pack_export_button": {"fr": "⬇️ Exporter", "en": "⬇️ Export"},
    "pack_details": {
        "fr": (
            "<b>{title}</b> <code>{pack}</code> · {status}\n\n"
            "Tâches : {tasks} (finies : {done}) · contrôles : {gold}\n"
            "Réponses : {answers} sur {wanted} ({percent}) · en cours : {leases}\n"
            "Réponses de contrôle : {gold_answers}\n"
            "Récompense : {reward} · dépensé : {spent}\n"
            "Actifs dans l'heure : {active}\n"
            "Temps médian par tâche : {median} · taux horaire implicite : {hourly}"
        ),
        "en": (
            "<b>{title}</b> <code>{pack}</code> · {status}\n\n"
            "Tasks: {tasks} (done: {done}) · check questions: {gold}\n"
            "Answers: {answers} of {wanted} ({percent}) · in progress: {leases}\n"
            "Check answers: {gold_answers}\n"
            "Reward: {reward} · spent: {spent}\n"
            "Active in the last hour: {active}\n"
            "Median time per task: {median} · implied hourly rate: {hourly}"
        ),
    },
    "pack_close_confirm": {
        "fr": "Clore le pack {pack} pour de bon ? Il ne pourra pas reprendre.",
        "en": "Close pack {pack} for good? It cannot be resumed.",
    },
    "pack_close_yes": {"fr": "Oui, clore", "en": "Yes, close it"},
    "pack_paused": {
        "fr": "⏸ Pack {pack} en pause : plus rien n'est distribué{leases}.",
        "en": "⏸ Pack {pack} paused: nothing new is handed out{leases}.",
    },
    "pack_resumed": {
        "fr": "▶️ Pack {pack} repris : ses tâches sont distribuées.",
        "en": "▶️ Pack {pack} resumed: its tasks are handed out again.",
    },
    "pack_closed": {
        "fr": "⏹ Pack {pack} clos{leases}.",
        "en": "⏹ Pack {pack} closed{leases}.",
    },
    "pack_leases": {
        "fr": " ({n} tâches en cours peuvent finir)",
        "en": " ({n} open tasks may finish)",
    },
    "pack_already": {
        "fr": "Le pack {pack} est déjà {status}.",
        "en": "Pack {pack} is already {status}.",
    },
    "pack_closed_stays": {
        "fr": "Le pack {pack} est clos ; un pack clos le reste.",
        "en": "Pack {pack} is closed; a closed pack stays closed.",
    },
    # -- /export -----------------------------------------------------------------------------
    "export_choose": {
        "fr": "Exporter <code>{pack}</code> : quel fichier ?",
        "en": "Export <code>{pack}</code>: which file?",
    },
    "export_results_csv": {"fr": "Résultats CSV", "en": "Results CSV"},
    "export_results_jsonl": {"fr": "Résultats JSONL", "en": "Results JSONL"},
    "export_raw_csv": {"fr": "Réponses brutes CSV", "en": "Raw answers CSV"},
    "export_raw_jsonl": {"fr": "Réponses brutes JSONL", "en": "Raw answers JSONL"},
    "export_caption": {
        "fr": "{pack} : {rows} lignes ({kind}). Identique à <code>python -m bot export</code>.",
        "en": "{pack}: {rows} rows ({kind}). Same bytes as <code>python -m bot export</code>.",
    },
    "export_kind_results": {"fr": "résultats agrégés", "en": "aggregated results"},
    "export_kind_raw": {"fr": "réponses brutes", "en": "raw answers"},
    "export_too_big": {
        "fr": (
            "L'export fait {size}, plus que les {limit} que Telegram accepte : utilisez"
            " <code>python -m bot export</code>."
        ),
        "en": (
            "The export is {size}, more than the {limit} Telegram takes: use"
            " <code>python -m bot export</code>."
        ),
    },
    "export_failed": {
        "fr": (
            "Le fichier n'a pas pu être envoyé. Réessayez ; si cela recommence, le journal du"
            " bot dit pourquoi (réf. <code>{ref}</code>)."
        ),
        "en": (
            "The file could not be sent. Try again; if it happens again, the bot's log says"
            " why (ref <code>{ref}</code>)."
        ),
    },
    # -- /stats ------------------------------------------------------------------------------
    "stats_caption": {
        "fr": (
            "<b>{title}</b> <code>{pack}</code>\n"
            "{answers}/{wanted} réponses ({percent}) · pic : {peak}/h · {hours} h d'activité\n"
            "Confiance médiane : {trust} ({workers} travailleurs notés) · médiane : {median}"
            " · {hourly}"
        ),
        "en": (
            "<b>{title}</b> <code>{pack}</code>\n"
            "{answers}/{wanted} answers ({percent}) · peak: {peak}/h · {hours} h of activity\n"
            "Median trust: {trust} ({workers} workers scored) · median: {median} · {hourly}"
        ),
    },
    "chart_answers_title": {"fr": "Réponses par heure (UTC)", "en": "Answers per hour (UTC)"},
    "chart_trust_title": {
        "fr": "Confiance des travailleurs (contrôles)",
        "en": "Worker trust (check questions)",
    },
    "chart_workers": {"fr": "travailleurs", "en": "workers"},
    "chart_answers": {"fr": "réponses", "en": "answers"},
    "chart_no_data": {"fr": "pas encore de données", "en": "no data yet"},
    # -- workers -----------------------------------------------------------------------------
    "workers_counts": {
        "fr": (
            "<b>Travailleurs</b> : {total}\n"
            "Actifs : {active} · suspendus : {barred} · ont bloqué le bot : {blocked}\n"
            "Ont répondu dans les 24 h : {recent}\n\n/worker ID pour l'un d'eux."
        ),
        "en": (
            "<b>Workers</b>: {total}\n"
            "Active: {active} · suspended: {barred} · blocked the bot: {blocked}\n"
            "Answered in the last 24 h: {recent}\n\n/worker ID for one of them."
        ),
    },
    "worker_unknown": {"fr": "Aucun travailleur {id}.", "en": "No worker {id}."},
    "worker_card": {
        "fr": (
            "<b>{name}</b> <code>{id}</code>{username} · {state}\n"
            "Gagné : {earned} · non payé : {unpaid}\n"
            "Dernière réponse : {last} · vu : {seen}\n\n{packs}"
        ),
        "en": (
            "<b>{name}</b> <code>{id}</code>{username} · {state}\n"
            "Earned: {earned} · unpaid: {unpaid}\n"
            "Last answer: {last} · seen: {seen}\n\n{packs}"
        ),
    },
    "worker_pack_line": {
        "fr": "• {title} : {answers} réponses · confiance {trust} · {standing}",
        "en": "• {title}: {answers} answers · trust {trust} · {standing}",
    },
    "worker_no_packs": {"fr": "Aucune réponse encore.", "en": "No answer yet."},
    "worker_state_active": {"fr": "actif", "en": "active"},
    "worker_state_barred": {
        "fr": "⛔ suspendu ({reason})",
        "en": "⛔ suspended ({reason})",
    },
    "worker_state_blocked": {"fr": "a bloqué le bot", "en": "blocked the bot"},
    "worker_state_new": {"fr": "n'a pas accepté les règles", "en": "has not agreed to the rules"},
    "worker_bar_button": {"fr": "⛔ Suspendre", "en": "⛔ Suspend"},
    "worker_unbar_button": {"fr": "✅ Réintégrer", "en": "✅ Reinstate"},
    "worker_reason_prompt": {
        "fr": "Pourquoi {action} {id} ? Répondez en un message : le travailleur le lira.",
        "en": "Why {action} {id}? Reply in one message: the worker will read it.",
    },
    "action_bar": {"fr": "suspendre", "en": "suspend"},
    "action_unbar": {"fr": "réintégrer", "en": "reinstate"},
    "worker_barred_done": {
        "fr": "⛔ {id} suspendu ; il en est informé avec votre raison.",
        "en": "⛔ {id} suspended; they are told, with your reason.",
    },
    "worker_unbarred_done": {
        "fr": "✅ {id} réintégré ; il en est informé.",
        "en": "✅ {id} reinstated; they are told.",
    },
    "worker_already": {"fr": "Rien à faire : déjà fait.", "en": "Nothing to do: already done."},
    "worker_no_reason": {
        "fr": "Une raison est nécessaire : rien n'a été fait.",
        "en": "A reason is needed: nothing was done.",
    },
    # what the worker reads (through the outbox)
    "op_suspended": {
        "fr": (
            "⛔ <b>Votre accès aux tâches est suspendu.</b>\nRaison : {reason}\n\n"
            "Vos gains déjà inscrits restent dus. Vous pouvez répondre à ce message."
        ),
        "en": (
            "⛔ <b>Your access to tasks is suspended.</b>\nReason: {reason}\n\n"
            "Earnings already recorded stay owed to you. You may reply to this message."
        ),
    },
    "op_reinstated": {
        "fr": "✅ <b>Vous pouvez de nouveau travailler.</b>\n{reason}\n\n/task pour reprendre.",
        "en": "✅ <b>You can work again.</b>\n{reason}\n\n/task to resume.",
    },
    "no_task_barred": {
        "fr": "⛔ Votre accès aux tâches est suspendu par l'équipe ; vous avez reçu la raison.",
        "en": "⛔ Your access to tasks is suspended by the team; you were sent the reason.",
    },
    # -- broadcast ---------------------------------------------------------------------------
    "broadcast_confirm": {
        "fr": (
            "📣 Ce message ira à <b>{n}</b> travailleurs (ayant accepté les règles, ni suspendus"
            " ni bloqués), au rythme des envois groupés, retenu pendant leurs heures calmes :\n\n"
            "{text}"
        ),
        "en": (
            "📣 This message will go to <b>{n}</b> workers (who agreed to the rules, neither"
            " suspended nor blocked), paced as bulk sends, held during their quiet hours:\n\n"
            "{text}"
        ),
    },
    "broadcast_send_button": {"fr": "Envoyer à {n}", "en": "Send to {n}"},
    "broadcast_queued": {
        "fr": "📣 Message en file pour {n} travailleurs.",
        "en": "📣 Message queued for {n} workers.",
    },
    "broadcast_nobody": {
        "fr": "Aucun travailleur à qui l'envoyer.",
        "en": "No worker to send it to.",
    },
    "broadcast_too_long": {
        "fr": "Message trop long : {n} caractères, au plus {max}.",
        "en": "Message too long: {n} characters, at most {max}.",
    },
    "op_broadcast": {"fr": "📣 {body}", "en": "📣 {body}"},
}
