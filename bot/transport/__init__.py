"""The bot's traffic with Telegram, both ways:

request.py    Bot API calls on aiohttp (PTB's BaseRequest): two lanes, the token redacted
pacing.py     Telegram's limits kept: sends paced, 429 honoured, 5xx and time-outs retried
receive.py    updates in: long polling or the webhook, each stored before it is confirmed
inbox.py      the durable inbox: no update lost to a crash, each one's effects once
processor.py  updates handled per user in order, with a bounded share of the concurrency
webserver.py  the webhook's HTTP server, which strangers' connections cannot hold
logbudget.py  log lines a flood of events cannot turn into a flood
"""
