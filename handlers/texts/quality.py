"""Worker-facing strings of the quality features, in French and English (handlers/texts/).

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
            "🎉 <b>Qualifié·e pour {pack}</b> : entraînement terminé, {correct}/{total} justes. "
            "Vos points aux questions de contrôle : {points} (pause à {limit}). Les vraies "
            "tâches arrivent."
        ),
        "en": (
            "🎉 <b>Qualified for {pack}</b>: training done, {correct}/{total} right. Your "
            "check-question points: {points} (paused at {limit}). Real tasks come next."
        ),
    },
    "failed": {
        "fr": (
            "📚 <b>Pas encore qualifié·e pour {pack}</b> : pendant l'entraînement, vos points "
            "ont atteint {points}, la ligne de pause est à {limit} ({rule}). Relisez les "
            "consignes et les explications ci-dessus ; vous pourrez réessayer {retry}. Vos "
            "réponses d'entraînement restent payées."
        ),
        "en": (
            "📚 <b>Not qualified for {pack} yet</b>: during training your points reached "
            "{points}, and the pause line is {limit} ({rule}). Read the instructions and the "
            "explanations above again; you may try again {retry}. Your training answers stay "
            "paid."
        ),
    },
    "suspended": {
        "fr": (
            "⏸ <b>Pause sur {pack}</b>\n{why}\n\n"
            "Ce que cela change : vos réponses depuis la dernière fois où vos points étaient à "
            "0 ou moins seront refaites par d'autres (ce qui vous a été payé le reste).\n"
            "Pour revenir : relisez les consignes ; un nouvel entraînement ouvre {retry}. "
            "Une question de contrôle vous semble fausse ? Contestez-la : une contestation "
            "acceptée lève la pause. Votre score : /score"
        ),
        "en": (
            "⏸ <b>Paused on {pack}</b>\n{why}\n\n"
            "What this changes: your answers since your points were last at 0 or below will be "
            "redone by others (what you were paid stays yours).\n"
            "How to come back: read the instructions again; new training opens {retry}. A "
            "check question looks wrong to you? Dispute it: an accepted dispute lifts the "
            "pause. Your score: /score"
        ),
    },
    "why_accuracy": {
        "fr": (
            "Vos points aux questions de contrôle ont atteint {points} ; la pause est à "
            "{limit}. La règle : {rule}. Sur vos {golds} questions de contrôle de cet essai, "
            "{rights} étaient justes. Elle est réglée pour qu'un travailleur soigneux (9 "
            "réponses justes sur 10) ne soit arrêté par malchance que dans {careful} des cas "
            "sur 200 questions."
        ),
        "en": (
            "Your check-question points reached {points}; the pause is at {limit}. The rule: "
            "{rule}. Of your {golds} check questions this attempt, {rights} were right. It is "
            "set so that a careful worker (9 answers in 10 right) is stopped by bad luck in "
            "only {careful} of cases over 200 questions."
        ),
    },
    "points_rule": {
        "fr": (
            "+{miss} par erreur, −{right} par réponse juste, jamais sous {floor}, pause à {limit}"
        ),
        "en": (
            "+{miss} per miss, −{right} per right answer, never below {floor}, paused at {limit}"
        ),
    },
    "why_too_fast": {
        "fr": (
            "Plusieurs réponses d'affilée sont venues plus vite qu'on ne peut lire la tâche "
            "(plus vite que le temps minimum de ce pack, par défaut le quart du temps habituel ; "
            "sur 10 000 travailleurs honnêtes simulés à l'allure habituelle, aucun n'est arrêté "
            "en 200 réponses)."
        ),
        "en": (
            "Several answers in a row came faster than anyone can read the task (faster than "
            "this pack's minimum time, by default a quarter of the usual time; of 10,000 honest "
            "workers simulated at the usual pace, none is stopped in 200 answers)."
        ),
    },
    "why_same_button": {
        "fr": (
            "Vous avez appuyé sur le même bouton un grand nombre de fois d'affilée (une série "
            "qu'une personne attentive ferait moins d'une fois sur 100 millions ; sur 10 000 "
            "travailleurs honnêtes simulés, aucun n'est arrêté en 200 réponses)."
        ),
        "en": (
            "You pressed the same button a great many times in a row (a streak a careful "
            "person would make less than once in 100 million; of 10,000 honest workers "
            "simulated, none is stopped in 200 answers)."
        ),
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
        "fr": (
            "• <b>{pack}</b> : entraînement, {correct}/{total} justes sur {n} ; {points} points,"
            " à {gap} de la pause ({rule})"
        ),
        "en": (
            "• <b>{pack}</b>: training, {correct}/{total} right of {n}; {points} points, {gap} "
            "from the pause ({rule})"
        ),
    },
    "score_qualified": {
        "fr": (
            "• <b>{pack}</b> : {points} points, à {gap} de la pause ; {rights} justes sur "
            "{golds} questions de contrôle ({rule})"
        ),
        "en": (
            "• <b>{pack}</b>: {points} points, {gap} from the pause; {rights} right of {golds} "
            "check questions ({rule})"
        ),
    },
    "score_failed": {
        "fr": (
            "• <b>{pack}</b> : entraînement arrêté à {points} points (pause à {limit}) ; "
            "nouvel essai {retry}"
        ),
        "en": (
            "• <b>{pack}</b>: training stopped at {points} points (pause at {limit}); next try "
            "{retry}"
        ),
    },
    "score_suspended": {
        "fr": "• <b>{pack}</b> : en pause, {points} points (pause à {limit}) ; reprise {retry}",
        "en": "• <b>{pack}</b>: paused, {points} points (pause at {limit}); back {retry}",
    },
    "score_stopped": {
        "fr": "• <b>{pack}</b> : en attente de nouvelles questions de contrôle",
        "en": "• <b>{pack}</b>: waiting for new check questions",
    },
    "score_rules": {
        "fr": (
            "<i>Chaque question de contrôle fait bouger vos points : une erreur en ajoute, une "
            "réponse juste en retire, sans descendre sous un plancher (un long bon parcours ne "
            "cache pas une chute plus tard). Au niveau de la pause, vous êtes mis·e en pause. "
            "Réglage : un travailleur soigneux (9 justes sur 10) n'est arrêté par malchance "
            "que dans {careful} des cas sur 200 questions ; quelqu'un qui clique au hasard "
            "l'est en une dizaine de questions. Votre taux de bonnes réponses fixe aussi le "
            "poids de vos réponses dans les résultats, et l'ordre des tâches : en dessous de "
            "8 sur 10, d'abord des tâches que personne n'a encore faites ; au-dessus, d'abord "
            "celles qui attendent une réponse pour trancher. Ni le nombre de tâches ni leur "
            "prix n'en dépendent.</i>"
        ),
        "en": (
            "<i>Each check question moves your points: a miss adds some, a right answer takes "
            "some off, never below a floor (a long good record cannot hide a later collapse). "
            "At the pause line you are paused. Set so that a careful worker (9 right in 10) is "
            "stopped by bad luck in only {careful} of cases over 200 questions; someone "
            "clicking at random is stopped within about ten. Your share of right answers also "
            "sets how much your answers weigh in the results, and the order of your tasks: "
            "below 8 in 10, tasks nobody has done yet come first; above, tasks waiting for an "
            "answer to settle them. Neither how many tasks you get nor their pay depends on "
            "it.</i>"
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
    "quality_reinstated": {
        "fr": (
            "✅ <b>{pack}</b> : les questions de contrôle sont désormais jugées par un test "
            "compté en points, plus juste envers les travailleurs soigneux. Avec lui, votre "
            "pause n'aurait pas eu lieu : elle est levée. Vos points : {points} (+{miss} par "
            "erreur, −{right} par réponse juste, jamais sous {floor}, pause à {limit}). /task "
            "pour continuer."
        ),
        "en": (
            "✅ <b>{pack}</b>: check questions are now judged by a test counted in points, "
            "fairer to careful workers. Under it your pause would not have happened: it is "
            "lifted. Your points: {points} (+{miss} per miss, −{right} per right answer, never "
            "below {floor}, paused at {limit}). /task to go on."
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
