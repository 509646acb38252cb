"""Worker-facing strings of the earnings features, in French and English (handlers/texts/)."""

EARNINGS: dict[str, dict[str, str]] = {
    "balance": {
        "fr": (
            "<b>Vos gains</b>\n\n"
            "Cette semaine : {week_tasks} tâches, {week_amount}\n"
            "Semaine dernière : {last_tasks} tâches, {last_amount}\n"
            "Au total : {total_tasks} tâches, {total_amount}\n\n"
            "Solde à payer : {unpaid}\n"
            "Déjà payé : {paid}\n"
            "Prochain paiement : {payout}\n\n"
            "Justesse sur les vérifications : {accuracy}\n"
            "Taux horaire effectif : {hourly}"
        ),
        "en": (
            "<b>Your earnings</b>\n\n"
            "This week: {week_tasks} tasks, {week_amount}\n"
            "Last week: {last_tasks} tasks, {last_amount}\n"
            "In all: {total_tasks} tasks, {total_amount}\n\n"
            "Unpaid balance: {unpaid}\n"
            "Paid so far: {paid}\n"
            "Next payout: {payout}\n\n"
            "Accuracy on checks: {accuracy}\n"
            "Effective hourly rate: {hourly}"
        ),
    },
    "rate_note": {
        "fr": "<i>Taux horaire : gains / temps actif (de l'envoi d'une tâche à la réponse ; "
        "au-delà de {minutes} min, c'est une pause).</i>",
        "en": "<i>Hourly rate: earnings / active time (from a task's arrival to your answer; "
        "over {minutes} min counts as a break).</i>",
    },
    "accuracy": {
        "fr": "{percent} % ({correct} sur {checks})",
        "en": "{percent}% ({correct} of {checks})",
    },
    "no_checks": {"fr": "pas encore de vérification", "en": "no checks yet"},
    "hourly": {"fr": "{amount}/h", "en": "{amount}/h"},
    "no_rate": {"fr": "pas encore mesuré", "en": "not measured yet"},
    "statement": {
        "fr": (
            "📊 <b>Votre relevé de la semaine {week}</b> ({first} – {last})\n\n"
            "Tâches faites : {tasks}\n"
            "Gagné : {earned}{top_up}\n"
            "Justesse sur les vérifications : {accuracy}\n"
            "Taux horaire effectif : {hourly}\n\n"
            "Solde à payer : {unpaid}\n"
            "Prochain paiement : {payout}\n\n"
            "Détails à tout moment : /balance"
        ),
        "en": (
            "📊 <b>Your statement for week {week}</b> ({first} – {last})\n\n"
            "Tasks done: {tasks}\n"
            "Earned: {earned}{top_up}\n"
            "Accuracy on checks: {accuracy}\n"
            "Effective hourly rate: {hourly}\n\n"
            "Unpaid balance: {unpaid}\n"
            "Next payout: {payout}\n\n"
            "Details at any time: /balance"
        ),
    },
    "statement_top_up": {
        "fr": " (dont {amount} de complément pour atteindre le taux horaire minimum)",
        "en": " (including a {amount} top-up to reach the minimum hourly rate)",
    },
    "payout_notice": {
        "fr": "💸 <b>Paiement effectué : {amount}</b>\nMerci pour votre travail ! /balance",
        "en": "💸 <b>Payout made: {amount}</b>\nThank you for your work! /balance",
    },
    "bonus_notice": {
        "fr": "🎁 <b>Prime : {amount}</b>\nMotif : {reason}\n/balance",
        "en": "🎁 <b>Bonus: {amount}</b>\nReason: {reason}\n/balance",
    },
    "adjustment_notice": {
        "fr": "🧾 <b>Correction de votre solde : {amount}</b>\nMotif : {reason}\n/balance",
        "en": "🧾 <b>Balance correction: {amount}</b>\nReason: {reason}\n/balance",
    },
    "expected_rate": {
        "fr": "environ {amount}/h",
        "en": "about {amount}/h",
    },
}
