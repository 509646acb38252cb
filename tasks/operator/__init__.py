"""The operators' use cases, behind handlers/operator/ and the CLI:

- upload.py: a pack file sent in the chat: checked, loaded, summarised (budget, fair pay);
- packs.py: /packs and /stats: each pack's line, its figures and chart data; pause, close;
- workers.py: /workers and /worker: counts, one worker's record, bar and unbar (the Suspend
  and Reinstate buttons); broadcasts.

Their `o:<token>` buttons (an action kept for one operator, a question answered once) and the
reasons they are asked for are kept with every reply the bot awaits: tasks/conversation.py.
"""
