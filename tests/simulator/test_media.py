"""Media as the simulated Telegram takes it: sendPhoto, sendAudio, sendVoice, editMessageMedia,
editMessageCaption and deleteMessage with Telegram's limits and error texts, and the counts a
test reads (uploads, sends by file_id, fetches by URL)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from telegram import Bot, InputFile, InputMediaAudio, InputMediaPhoto
from telegram.error import BadRequest

from bot.samples.make_media import shape_png
from simulator import SimulatorServer
from tests.helpers import USER, keyboard


@pytest.fixture(autouse=True)
def no_flood_limits(sim: SimulatorServer) -> None:
    sim.rate_limits = False  # many sends to one chat in a second: not what is tested here


PNG = shape_png("triangle", (30, 160, 60))
MP3 = Path(__file__).resolve().parents[2] / "bot" / "samples" / "media" / "tones-440-660.mp3"


async def test_uploads_then_file_ids_are_counted_per_kind(sim: SimulatorServer, bot: Bot) -> None:
    markup = keyboard([("A", "a:1:0")])
    photo = await bot.send_photo(
        USER, InputFile(PNG, "a.png"), caption="<b>1</b>", reply_markup=markup, parse_mode="HTML"
    )
    assert photo.photo[-1].width == 48 and photo.caption == "1"
    again = await bot.send_photo(USER, photo.photo[-1].file_id)
    voice = await bot.send_voice(USER, InputFile(MP3.read_bytes(), "v.mp3"))
    assert voice.voice is not None and voice.voice.file_id.startswith("AwAC")
    song = await bot.send_audio(USER, InputFile(MP3.read_bytes(), "s.mp3"))
    assert song.audio is not None
    assert sim.files.uploads == {"photo": 1, "voice": 1, "audio": 1}
    assert sim.files.by_file_id == {"photo": 1}
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    chat = sim.chat(USER)
    assert chat.messages[photo.message_id].buttons[0].callback_data == "a:1:0"


async def test_telegram_refusals_and_their_texts(sim: SimulatorServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(USER, InputFile(PNG, "a.png"), caption="x" * 1025)
    await bot.send_photo(USER, InputFile(PNG, "a.png"), caption="é" * 1024)  # at the limit
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_photo(USER, "AgACnot-a-known-file-id-at-all")
    with pytest.raises(BadRequest, match="Failed to get http url content"):
        await bot.send_photo(USER, "https://example.org/nothing.png")
    voice = await bot.send_voice(USER, InputFile(MP3.read_bytes(), "v.mp3"))
    assert voice.voice is not None
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_photo(USER, voice.voice.file_id)
    wav = await bot.send_voice(USER, InputFile(b"RIFF\x00\x00\x00\x00WAVEfmt ", "w.wav"))
    assert wav.voice is None and wav.document is not None  # another format: a document
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(USER, InputFile(b"not an image", "a.png"))


async def test_edits_of_media_messages(sim: SimulatorServer, bot: Bot) -> None:
    text = await bot.send_message(USER, "a text task", reply_markup=keyboard([("A", "a:1:0")]))
    edited = await bot.edit_message_media(
        InputMediaPhoto(InputFile(PNG, "a.png", attach=True), caption="now a picture"),
        USER,
        text.message_id,
        reply_markup=keyboard([("B", "a:2:0")]),
    )
    assert not isinstance(edited, bool) and edited.photo and edited.caption == "now a picture"
    state = sim.chat(USER).messages[text.message_id]
    assert state.media_kind == "photo" and state.buttons[0].callback_data == "a:2:0"
    file_id = edited.photo[-1].file_id
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_media(
            InputMediaPhoto(file_id, caption="now a picture"),
            USER,
            text.message_id,
            reply_markup=keyboard([("B", "a:2:0")]),
        )
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("text again", USER, text.message_id)
    await bot.edit_message_caption(USER, text.message_id, caption="feedback")
    assert sim.chat(USER).messages[text.message_id].text == "feedback"
    song = await bot.edit_message_media(
        InputMediaAudio(InputFile(MP3.read_bytes(), "s.mp3", attach=True)), USER, text.message_id
    )
    assert not isinstance(song, bool) and song.audio is not None

    voice = await bot.send_voice(USER, InputFile(MP3.read_bytes(), "v.mp3"))
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_media(InputMediaPhoto(file_id), USER, voice.message_id)
    plain = await bot.send_message(USER, "plain")
    with pytest.raises(BadRequest, match="There is no caption in the message to edit"):
        await bot.edit_message_caption(USER, plain.message_id, caption="x")


async def test_delete_message(sim: SimulatorServer, bot: Bot) -> None:
    sent = await bot.send_message(USER, "to go")
    assert await bot.delete_message(USER, sent.message_id)
    assert sent.message_id not in sim.chat(USER).messages
    assert sim.chat(USER).events[-1].kind == "delete"
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    old = await bot.send_message(USER, "old")
    sim.chat(USER).messages[old.message_id].date = int(time.time()) - 49 * 3600
    with pytest.raises(BadRequest, match="Message can't be deleted for everyone"):
        await bot.delete_message(USER, old.message_id)
