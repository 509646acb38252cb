"""Worker-facing strings of the quality features, in French and English (see handlers/texts.py).

Placeholders hold text the renderer escapes first (pack titles, explanations, reasons)."""

QUALITY: dict[str, dict[str, str]] = {
    "training_intro": {
        "fr": (
            "🎓 <b>{pack}</b> : d'abord {n} questions d'entraînement dont nous connaissons la "
            "réponse. Après chacune, vous voyez la bonne réponse et pourquoi."
        ),
        "en": (
            "🎓 <b>{pack}</b>: first, {n} training questions whose answer we know. After each "
            "one you see the right answer and why."
        ),
    },
    "retraining_intro": {
        "fr": (
            "🎓 <b>{pack}</b> : vous pouvez vous réentraîner. {n} questions d'entraînement, "
            "avec la réponse après chacune."
        ),
        "en": (
            "🎓 <b>{pack}</b>: you may train again. {n} training questions, with the answer "
            "after each one."
        ),
    },
    "training_header": {
        "fr": "🎓 Entraînement {i}/{n}",
        "en": "🎓 Training {i}/{n}",
    },
    "feedback_right": {
        "fr": "✅ <b>Juste.</b> Réponse attendue : <b>{expected}</b>.",
        "en": "✅ <b>Right.</b> Expected answer: <b>{expected}</b>.",
    },
    "feedback_wrong": {
        "fr": (
            "❌ <b>Pas tout à fait.</b> Vous avez répondu <b>{answered}</b> ; la réponse "
            "attendue est <b>{expected}</b>."
        ),
        "en": (
            "❌ <b>Not quite.</b> You answered <b>{answered}</b>; the expected answer is "
            "<b>{expected}</b>."
        ),
    },
    "feedback_check": {
        "fr": "🔎 C'était une question de contrôle ({pack}).",
        "en": "🔎 That was a check question ({pack}).",
    },
    "feedback_training": {
        "fr": "🎓 Entraînement {i}/{n} ({pack})",
        "en": "🎓 Training {i}/{n} ({pack})",
    },
    "feedback_why": {"fr": "<i>Pourquoi :</i> {explanation}", "en": "<i>Why:</i> {explanation}"},
    "feedback_dispute_hint": {
        "fr": (
            "Vous pensez que la réponse attendue est fausse ? Appuyez sur « Contester » : "
            "l'équipe vérifie, et une contestation acceptée corrige votre score."
        ),
        "en": (
            "Think the expected answer is wrong? Tap “Dispute”: the team checks, and an "
            "accepted dispute corrects your score."
        ),
    },
    "dispute_button": {"fr": "⚖️ Contester", "en": "⚖️ Dispute"},
    "passed": {
        "fr": (
            "🎉 <b>Qualifié·e pour {pack}</b> : {correct}/{total} justes (il en fallait "
            "{threshold}). Les vraies tâches arrivent."
        ),
        "en": (
            "🎉 <b>Qualified for {pack}</b>: {correct}/{total} right ({threshold} needed). "
            "Real tasks come next."
        ),
    },
    "failed": {
        "fr": (
            "📚 <b>Pas encore qualifié·e pour {pack}</b> : {correct}/{total} justes, il en "
            "fallait {threshold}. Relisez les consignes et les explications ci-dessus ; vous "
            "pourrez réessayer {retry}. Vos réponses d'entraînement restent payées."
        ),
        "en": (
            "📚 <b>Not qualified for {pack} yet</b>: {correct}/{total} right, {threshold} "
            "needed. Read the instructions and the explanations above again; you may try again "
            "{retry}. Your training answers stay paid."
        ),
    },
    "suspended": {
        "fr": (
            "⏸ <b>Pause sur {pack}</b>\n{why}\n\n"
            "Ce que cela change : vos réponses depuis votre dernière bonne série seront "
            "refaites par d'autres (ce qui vous a été payé le reste).\n"
            "Pour revenir : relisez les consignes ; un nouvel entraînement ouvre {retry}. "
            "Une question de contrôle vous semble fausse ? Contestez-la : une contestation "
            "acceptée lève la pause. Votre score : /score"
        ),
        "en": (
            "⏸ <b>Paused on {pack}</b>\n{why}\n\n"
            "What this changes: your answers since your last good series will be redone by "
            "others (what you were paid stays yours).\n"
            "How to come back: read the instructions again; new training opens {retry}. A "
            "check question looks wrong to you? Dispute it: an accepted dispute lifts the "
            "pause. Your score: /score"
        ),
    },
    "why_accuracy": {
        "fr": (
            "Votre score sur les questions de contrôle est de {score}, sous le seuil de "
            "{threshold} ({correct} justes sur les {total} dernières)."
        ),
        "en": (
            "Your score on check questions is {score}, below the threshold of {threshold} "
            "({correct} right of the last {total})."
        ),
    },
    "why_too_fast": {
        "fr": "Plusieurs réponses d'affilée sont venues plus vite qu'on ne peut lire la tâche.",
        "en": "Several answers in a row came faster than anyone can read the task.",
    },
    "why_same_button": {
        "fr": "Vous avez appuyé sur le même bouton un grand nombre de fois d'affilée.",
        "en": "You pressed the same button a great many times in a row.",
    },
    "stopped_no_gold": {
        "fr": (
            "⏸ <b>{pack}</b> : nous n'avons plus de question de contrôle nouvelle pour vous, et "
            "il en faut encore quelques-unes avant de continuer. L'équipe est prévenue ; nous "
            "vous dirons quand reprendre."
        ),
        "en": (
            "⏸ <b>{pack}</b>: we have no new check question for you, and a few more are "
            "needed before you go on. The team has been told; we will tell you when to resume."
        ),
    },
    "no_task_held": {
        "fr": (
            "Pas de tâche pour vous en ce moment (voir /score). Nous vous préviendrons dès "
            "que vous pouvez continuer."
        ),
        "en": "No task for you right now (see /score). We will tell you as soon as you can go on.",
    },
    "retry_at": {"fr": "le {date} à {time}", "en": "on {date} at {time}"},
    "score_header": {"fr": "<b>Votre score</b>", "en": "<b>Your score</b>"},
    "score_none": {
        "fr": "Pas encore de question de contrôle : votre score apparaîtra ici.",
        "en": "No check question yet: your score will show here.",
    },
    "score_training": {
        "fr": "• <b>{pack}</b> : entraînement, {correct}/{total} justes sur {n} (il faut {mark})",
        "en": "• <b>{pack}</b>: training, {correct}/{total} right of {n} ({mark} needed)",
    },
    "score_qualified": {
        "fr": (
            "• <b>{pack}</b> : {score} (seuil {threshold}) sur vos {total} dernières questions "
            "de contrôle ; {correct} justes"
        ),
        "en": (
            "• <b>{pack}</b>: {score} (threshold {threshold}) over your last {total} check "
            "questions; {correct} right"
        ),
    },
    "score_failed": {
        "fr": (
            "• <b>{pack}</b> : entraînement non réussi ({correct}/{total}) ; nouvel essai {retry}"
        ),
        "en": "• <b>{pack}</b>: training not passed ({correct}/{total}); next try {retry}",
    },
    "score_suspended": {
        "fr": "• <b>{pack}</b> : en pause, score {score} (seuil {threshold}) ; reprise {retry}",
        "en": "• <b>{pack}</b>: paused, score {score} (threshold {threshold}); back {retry}",
    },
    "score_stopped": {
        "fr": "• <b>{pack}</b> : en attente de nouvelles questions de contrôle",
        "en": "• <b>{pack}</b>: waiting for new check questions",
    },
    "score_rules": {
        "fr": (
            "<i>Le score compte vos {window} dernières questions de contrôle, lissé : "
            "(0,5 + justes) / (1 + total). Une seule erreur ne suffit jamais à une pause.</i>"
        ),
        "en": (
            "<i>The score counts your last {window} check questions, smoothed: "
            "(0.5 + right) / (1 + total). A single mistake never leads to a pause.</i>"
        ),
    },
    "dispute_sent": {
        "fr": (
            "⚖️ Contestation enregistrée. Pour ajouter un commentaire, écrivez-le dans votre "
            "prochain message (facultatif)."
        ),
        "en": ("⚖️ Dispute recorded. To add a comment, write it as your next message (optional)."),
    },
    "dispute_sent_toast": {"fr": "Contestation enregistrée", "en": "Dispute recorded"},
    "dispute_already_toast": {
        "fr": "Déjà contestée : l'équipe va regarder.",
        "en": "Already disputed: the team will look at it.",
    },
    "dispute_not_allowed_toast": {
        "fr": "Cette réponse ne peut pas être contestée.",
        "en": "This answer cannot be disputed.",
    },
    "comment_saved": {
        "fr": "📝 Commentaire ajouté à votre contestation. Merci !",
        "en": "📝 Comment added to your dispute. Thank you!",
    },
    "dispute_accepted": {
        "fr": (
            "✅ Votre contestation sur « {task} » ({pack}) est acceptée : la question de "
            "contrôle est corrigée et votre score recalculé. Merci !"
        ),
        "en": (
            "✅ Your dispute on “{task}” ({pack}) was accepted: the check question was "
            "corrected and your score recomputed. Thank you!"
        ),
    },
    "dispute_rejected": {
        "fr": (
            "⚖️ Votre contestation sur « {task} » ({pack}) a été examinée : la réponse "
            "attendue est maintenue. Raison : {reason}"
        ),
        "en": (
            "⚖️ Your dispute on “{task}” ({pack}) was reviewed: the expected answer stands. "
            "Reason: {reason}"
        ),
    },
    "quality_lifted": {
        "fr": (
            "✅ Bonne nouvelle : après une correction des questions de contrôle de "
            "<b>{pack}</b>, votre pause est levée. /task pour continuer."
        ),
        "en": (
            "✅ Good news: after a correction of the check questions of <b>{pack}</b>, your "
            "pause is lifted. /task to go on."
        ),
    },
    "cmd_score": {"fr": "Mon score", "en": "My score"},
    # Operators (/disputes and alerts).
    "op_no_disputes": {
        "fr": "Aucune contestation ouverte.",
        "en": "No open dispute.",
    },
    "op_disputes_header": {
        "fr": "<b>{n} contestation(s) ouverte(s)</b> ; éléments en revue : {flagged}",
        "en": "<b>{n} open dispute(s)</b>; items under review: {flagged}",
    },
    "op_dispute": {
        "fr": (
            "<b>#{id}</b> · {pack} · tâche {task}{flag}\n<i>{text}</i>\n"
            "Attendu : <b>{expected}</b> · réponse du travailleur : <b>{answer}</b>\n"
            "Explication : {explanation}\nCommentaire : {comment}"
        ),
        "en": (
            "<b>#{id}</b> · {pack} · task {task}{flag}\n<i>{text}</i>\n"
            "Expected: <b>{expected}</b> · worker's answer: <b>{answer}</b>\n"
            "Explanation: {explanation}\nComment: {comment}"
        ),
    },
    "op_flagged": {"fr": " · ⚠️ en revue", "en": " · ⚠️ under review"},
    "op_more": {
        "fr": "… et {n} autre(s) : python -m bot disputes",
        "en": "… and {n} more: python -m bot disputes",
    },
    "op_fix_button": {"fr": "✅ Corriger en « {label} »", "en": "✅ Correct to “{label}”"},
    "op_retire_button": {"fr": "🗑 Retirer la question", "en": "🗑 Retire the item"},
    "op_reject_button": {"fr": "❌ Rejeter", "en": "❌ Reject"},
    "op_reason_prompt": {
        "fr": "Contestation #{id} : envoyez la raison du rejet (le travailleur la recevra).",
        "en": "Dispute #{id}: send the reason for rejecting it (the worker receives it).",
    },
    "op_done": {"fr": "Fait : {message}", "en": "Done: {message}"},
    "op_failed": {"fr": "Impossible : {message}", "en": "Not possible: {message}"},
    "op_needs_gold": {
        "fr": (
            "⚠️ Le pack <b>{pack}</b> manque de questions de contrôle ({gold} en service) : "
            "des travailleurs sont arrêtés. Ajoutez des tâches « gold » (load-pack --replace)."
        ),
        "en": (
            "⚠️ Pack <b>{pack}</b> needs more gold ({gold} in service): workers are stopped. "
            "Add gold tasks (load-pack --replace)."
        ),
    },
    "op_gold_flagged": {
        "fr": (
            "⚠️ Question de contrôle <b>{task}</b> ({pack}) manquée ou contestée par {missed} "
            "travailleurs sur {of} : elle ne compte plus jusqu'à revue (/disputes)."
        ),
        "en": (
            "⚠️ Gold item <b>{task}</b> ({pack}) missed or disputed by {missed} of {of} "
            "workers: it no longer counts until reviewed (/disputes)."
        ),
    },
    "op_new_dispute": {
        "fr": "⚖️ Nouvelle contestation #{id} ({pack}) : /disputes",
        "en": "⚖️ New dispute #{id} ({pack}): /disputes",
    },
}
