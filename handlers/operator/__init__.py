"""The operators' side in Telegram (issue 11). Every handler checks OPERATOR_IDS itself
(access.py): a command or a button from anyone else gets the worker's help and is logged. One
idea per module:

    access.py     who is an operator; `o:<token>` buttons (what each kind does: the route
                  table, handlers/routes.py)
    help.py       /help for operators; their command menu, in their language
    upload.py     a pack file sent as a document: validated, loaded, summarised
    packs.py      /packs and its buttons (details, pause, resume, close, export)
    export.py     /export PACK: the results file, the CLI's bytes
    stats.py      /stats PACK: the chart (chart.py draws it)
    workers.py    /workers, /worker ID, bar and unbar (Suspend, Reinstate) with a reason
    broadcast.py  /broadcast TEXT, after a confirmation

The domain behind them is tasks/operator/ (upload, packs, workers); their buttons and the
reasons they are asked for are kept with every reply the bot awaits (tasks/conversation.py).
"""
