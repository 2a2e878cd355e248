"""Trimming: the owner's words stay, our marker, quotes and signatures go to `removed`."""

from __future__ import annotations

import time

import pytest

from iep_followup.inbound.trim import fold, trim_reply

ADDRESS = "iep-replies+r12-abcdefghijklmnopqrst@district.example.org"


@pytest.mark.parametrize(
    "marker",
    [
        "—— Write your reply above this line ——",
        "> —— Write your reply above this line ——",
        ">> -- write your reply ABOVE this line --",
        "___ Write your reply above this line ___",
        "Write your reply above this line",
        "—— Escriba su respuesta arriba de esta línea ——",
        "> ESCRIBA SU RESPUESTA ARRIBA DE ESTA LINEA",
        "—— Escriba su respuesta arriba de esta li\u0301nea ——",  # decomposed accent
    ],
)
def test_cuts_at_our_marker_however_it_was_quoted(marker: str) -> None:
    trimmed = trim_reply(f"A1 done\n\n{marker}\n\n    A1 done\n    A2 50%\n")
    assert trimmed.kept == "A1 done"
    assert "A2 50%" in trimmed.removed


def test_a_sentence_mentioning_the_marker_words_is_not_the_marker() -> None:
    text = "A1 done. I wrote my reply above this line of text as asked"
    assert trim_reply(text).kept == text


@pytest.mark.parametrize(
    "attribution",
    [
        f"On Mon, Nov 23, 2026 at 8:01 AM IEP Follow-up <{ADDRESS}> wrote:",
        f"On Mon, Nov 23, 2026 at 8:01 AM IEP Follow-up <\n{ADDRESS}> wrote:",
        f"On Mon, Nov 23, 2026, 8:01 AM IEP Follow-up <{ADDRESS}>\nwrote:",
        f"On Nov 23, 2026, at 8:01 AM, IEP Follow-up <{ADDRESS}> wrote:",
        "On 11/23/26 8:01 AM, IEP Follow-up wrote:",
        f"El lun, 23 nov 2026 a las 8:01, IEP Follow-up (<{ADDRESS}>) escribió:",
        f"El lun, 23 nov 2026 a las 8:01, IEP Follow-up (<\n{ADDRESS}>) escribió:",
        f"El 23 nov 2026, a las 8:01, IEP Follow-up <{ADDRESS}> escribió:",
        "El 23/11/26 a las 8:01, IEP Follow-up escribio:",
    ],
)
def test_cuts_at_an_attribution_line_even_when_wrapped(attribution: str) -> None:
    trimmed = trim_reply(f"A1 done\nA2 50%\n\n{attribution}\n\n> Hello Rosa,\n> A1 done\n")
    assert trimmed.kept == "A1 done\nA2 50%"
    assert trimmed.removed.startswith(attribution.split("\n", maxsplit=1)[0])
    assert "> Hello Rosa," in trimmed.removed


def test_an_attribution_without_quoting_below_is_still_cut() -> None:
    text = "Listo\n\nEl lun, 23 nov 2026 a las 8:01, IEP Follow-up escribió:\nHola Rosa:\nA1 listo"
    assert trim_reply(text).kept == "Listo"


def test_a_note_that_says_someone_wrote_is_kept() -> None:
    text = "A2 on Monday the teacher wrote:\nshe is reading much better"
    assert trim_reply(text).kept == text


@pytest.mark.parametrize(
    "block",
    [
        "From: IEP Follow-up <x@district.example.org>\nSent: Monday, November 23, 2026 8:01 AM\n"
        "To: Tom Teacher <tom@school.example.org>\nSubject: Quick check-in",
        "________________________________\nFrom: IEP Follow-up <x@district.example.org>\n"
        "Sent: Monday, November 23, 2026 8:01 AM\nTo: Tom\nSubject: Quick check-in",
        "*From:* IEP Follow-up\n*Sent:* Monday\n*To:* Tom\n*Subject:* Quick check-in",
        "De: IEP Follow-up <x@district.example.org>\nEnviado el: lunes, 23 de noviembre de 2026 8:01\n"
        "Para: Rosa Herrera\nAsunto: Actualización rápida",
        "De: IEP Follow-up\nEnviado: lunes\nPara: Rosa\nAsunto: Actualización",
        "-----Original Message-----\nFrom: IEP Follow-up\nSent: Monday\nTo: Tom\nSubject: Check-in",
        "-----Mensaje original-----\nDe: IEP Follow-up\nFecha: lunes\nPara: Rosa\nAsunto: Hola",
        "-------- Original message --------\nFrom: IEP Follow-up\nDate: 11/23/26 8:01 AM",
    ],
)
def test_cuts_unquoted_outlook_header_blocks(block: str) -> None:
    trimmed = trim_reply(f"A1 done\n\n{block}\n\nHello Tom,\nA1 done\nA2 50%\n")
    assert trimmed.kept == "A1 done"
    assert trimmed.removed.startswith(block.split("\n", maxsplit=1)[0])


def test_a_from_line_alone_is_not_a_header_block() -> None:
    text = "A1 done\nFrom: now on she does it alone"
    assert trim_reply(text).kept == text


@pytest.mark.parametrize(
    "signature",
    [
        "Sent from my iPhone",
        "Sent from my Android",
        "Sent from my Samsung Galaxy smartphone.",
        "Enviado desde mi iPhone",
        "Enviado desde mi teléfono Huawei",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/AAb9ysg>",
        "Obtener Outlook para Android",
        "Sent from Yahoo Mail for iPhone",
        "Enviado desde Correo para Windows",
        "-- \nRosa Herrera\n(555) 010-2000",
        "--\nRosa",
    ],
)
def test_cuts_phone_and_dash_signatures(signature: str) -> None:
    trimmed = trim_reply(f"A1 done\nA2 50%\n\n{signature}\n")
    assert trimmed.kept == "A1 done\nA2 50%"
    assert signature.split("\n", maxsplit=1)[0].strip() in trimmed.removed


def test_sent_from_in_a_sentence_is_kept() -> None:
    text = "A1 sent from home with the signed folder"
    assert trim_reply(text).kept == text


def test_library_signature_phrases_are_cut() -> None:
    trimmed = trim_reply("A1 done\nA2 50%\n\nThanks,\nRosa")
    assert trimmed.kept == "A1 done\nA2 50%"
    assert trim_reply("A1 listo\n\nSaludos,\nRosa").kept == "A1 listo"


def test_a_thanks_line_that_carries_an_update_is_kept() -> None:
    # mail-parser-reply would cut here: its "Thanks," is not anchored to the line end.
    text = "A1 done\nThanks, A2 is at 50% now"
    assert trim_reply(text).kept == text


def test_hyphen_bullets_are_not_taken_for_a_signature() -> None:
    text = "Update:\n- A1 done\n- A2 50%\n- A3 blocked: no workbook"
    assert trim_reply(text).kept == text


def test_quoted_lines_left_at_the_end_are_removed() -> None:
    trimmed = trim_reply("A1 done\n\n> A1 — Check homework\n> A2 — Read together")
    assert trimmed.kept == "A1 done"
    assert trimmed.removed == "> A1 — Check homework\n> A2 — Read together"


def test_inline_answers_between_quoted_lines_are_kept() -> None:
    text = (
        "On 11/23/26 8:01 AM, IEP Follow-up wrote:\n"
        "> A1 — Check homework each night\n"
        "A1 done\n"
        ">\n"
        "> A2 — Read together\n"
        "\n"
        "A2 50%, she likes it\n"
        "> A3 — Math workbook\n"
        "> —— Write your reply above this line ——\n"
        "> A1 done\n"
    )
    trimmed = trim_reply(text)
    assert trimmed.kept == "A1 done\n\nA2 50%, she likes it"
    assert "wrote:" in trimmed.removed
    assert "> A3 — Math workbook" in trimmed.removed


def test_a_bottom_posted_reply_is_kept() -> None:
    text = "On 11/23/26 8:01 AM, IEP Follow-up wrote:\n> Hello Rosa\n> A1 — Homework\n\nA1 done\n"
    assert trim_reply(text).kept == "A1 done"


def test_a_signature_below_a_top_posted_quote_does_not_make_it_inline() -> None:
    text = "A1 done\n\n> quoted request\n> more\n\n-- \nRosa"
    assert trim_reply(text).kept == "A1 done"


def test_removed_keeps_everything_that_was_cut() -> None:
    text = "A1 done\n\nSent from my iPhone\n\n> On Nov 23, 2026, at 8:01 AM, X <a@b.c> wrote:\n> Hi"
    trimmed = trim_reply(text)
    assert trimmed.kept == "A1 done"
    assert trimmed.removed == (
        "Sent from my iPhone\n\n> On Nov 23, 2026, at 8:01 AM, X <a@b.c> wrote:\n> Hi"
    )


def test_line_endings_invisible_characters_and_no_break_spaces_are_normalised() -> None:
    trimmed = trim_reply("\ufeffA1\xa0done\r\nA2 50%\r\n\r\n> quoted\r")
    assert trimmed.kept == "A1 done\nA2 50%"


def test_a_reply_that_is_only_a_quote_keeps_nothing() -> None:
    trimmed = trim_reply("On Mon, Nov 23, 2026 at 8:01 AM X <a@b.c> wrote:\n> Hello\n> A1 done")
    assert trimmed.kept == ""
    assert "> A1 done" in trimmed.removed


@pytest.mark.parametrize("text", ["", "\n\n", "   ", ">", "--", "\x00"])
def test_degenerate_input_gives_empty_kept(text: str) -> None:
    assert trim_reply(text).kept == ""


def test_huge_text_is_trimmed_quickly() -> None:
    # The library's regexes backtrack on long lines; our layer must stay fast regardless.
    text = "On " + "x" * 200_000 + "\n" + "A1 done\n" * 5_000 + "> quoted\n"
    started = time.perf_counter()
    trimmed = trim_reply(text)
    assert time.perf_counter() - started < 5
    assert trimmed.kept.endswith("A1 done")


def test_fold_drops_case_and_accents() -> None:
    assert fold("Línea ÁRBOL Niño") == "linea arbol nino"


@pytest.mark.parametrize(
    "attribution",
    [
        f"IEP Follow-up <{ADDRESS}> wrote:",
        f"IEP Follow-up <{ADDRESS}>\nwrote:",
        f"On Mon, Nov 23, 2026 at 8:01 AM IEP Follow-up <{ADDRESS}<mailto:{ADDRESS}>>\nwrote:",
        f"On Monday, November 23, 2026,\n08:01:23 AM CST, IEP Follow-up <\n{ADDRESS}> wrote:",
        f"2016-03-03 17:21 GMT+01:00 IEP Follow-up <{ADDRESS}>:",
        f"2013/7/20 IEP Follow-up via District <{ADDRESS}>",
        f"Em seg., 23 de nov. de 2026 às 08:01, IEP Follow-up <{ADDRESS}> escreveu:",
        f"Le lun. 23 nov. 2026 à 08:01, IEP Follow-up <{ADDRESS}> a écrit :",
        f"Am Mo., 23. Nov. 2026 um 08:01 Uhr schrieb IEP Follow-up <\n{ADDRESS}>:",
        "Am 23.11.26 um 08:01 schrieb IEP Follow-up:",
        f"Il giorno lun 23 nov 2026 alle ore 08:01 IEP Follow-up <{ADDRESS}> ha scritto:",
        f"Op ma 23 nov. 2026 om 08:01 schreef IEP Follow-up <{ADDRESS}>:",
        f"W dniu 23.11.2026 o 08:01, IEP Follow-up <{ADDRESS}> napisał(a):",
        f"pon., 23 lis 2026 o 08:01 IEP Follow-up <{ADDRESS}> napisał(a):",
        "W dniu 23.11.2026 o 08:01, IEP Follow-up pisze:",
        f"Op 23 nov. 2026 om 08:01 heeft IEP Follow-up <{ADDRESS}> het volgende geschreven:",
        f"Wiadomość napisana przez IEP Follow-up <{ADDRESS}> w dniu 23.11.2026, o godz. 08:01:",
        f"---- On Mon, 23 Nov 2026 08:01:00 -0600 IEP Follow-up <{ADDRESS}> wrote ----",
    ],
)
def test_cuts_attributions_in_every_shape_and_language(attribution: str) -> None:
    trimmed = trim_reply(f"A1 done\nA2 50%\n\n{attribution}\n\n> Hello Rosa,\n> A1 done\n")
    assert trimmed.kept == "A1 done\nA2 50%"
    assert "> Hello Rosa," in trimmed.removed


@pytest.mark.parametrize(
    "text",
    [
        "A1 done\n\nsomeone <at> school wrote: hello",
        "The teacher wrote:\nshe is reading much better",
        "A1 done\nRosa <rosa@home.example.com> wrote a note in the folder",
    ],
)
def test_sentences_that_look_a_little_like_attributions_are_kept(text: str) -> None:
    assert trim_reply(text).kept == text


@pytest.mark.parametrize(
    "block",
    [
        "Von: IEP Follow-up <x@district.example.org>\nGesendet: Montag, 23. November 2026 08:01\n"
        "An: Rosa\nBetreff: Kurze Nachfrage",
        "De : IEP Follow-up\nEnvoyé : lundi 23 novembre 2026 08:01\nÀ : Rosa\nObjet : Suivi",
        "Da: IEP Follow-up\nInviato: lunedì 23 novembre 2026 08:01\nA: Rosa\nOggetto: Aggiornamento",
        "Van: IEP Follow-up\nVerzonden: maandag 23 november 2026 08:01\nAan: Rosa\nOnderwerp: Vraag",
        "Od: IEP Follow-up\nWysłane: poniedziałek, 23 listopada 2026 08:01\nDo: Rosa\nTemat: Pytanie",
        "De: IEP Follow-up\nEnviada em: segunda-feira, 23 de novembro de 2026 08:01\nPara: Rosa\n"
        "Assunto: Atualização",
        "-----Ursprüngliche Nachricht-----\nVon: IEP\nGesendet: Montag\nAn: Rosa\nBetreff: Hallo",
        "-----Message d'origine-----\nDe : IEP\nEnvoyé : lundi\nÀ : Rosa\nObjet : Suivi",
        "-----Messaggio originale-----",
        "-----Oorspronkelijk bericht-----",
        "-----Wiadomość oryginalna-----",
        "-----Mensagem original-----",
        "---------- Forwarded message ---------\nFrom: IEP Follow-up <x@district.example.org>",
        "---------- Weitergeleitete Nachricht ---------",
        "Begin forwarded message:",
        "Début du message réexpédié :",
        "============ Forwarded message ============",
    ],
)
def test_cuts_header_blocks_and_separators_in_every_language(block: str) -> None:
    trimmed = trim_reply(f"A1 done\n\n{block}\n\nHello Rosa,\nA1 done\nA2 50%\n")
    assert trimmed.kept == "A1 done"
    assert trimmed.removed.startswith(block.split("\n", maxsplit=1)[0])


@pytest.mark.parametrize(
    "footer",
    [
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Verstuurd vanaf mijn iPhone",
        "Inviato da iPhone",
        "Enviado do meu iPhone",
        "Wysłane z iPhone'a",
        "Sent from Mail for Windows",
        "Sent with Airmail",
        "Sent from Yahoo Mail",
        "Sent from my Galaxy",
        "Sent with Proton Mail secure email.",
        "Enviado con el correo electrónico seguro de Proton Mail.",
        "Télécharger Outlook pour Android",
        "Scarica Outlook per Android",
        "Von meinem Samsung Galaxy Smartphone gesendet.",
        "Gesendet mit der sicheren E-Mail von Proton Mail.",
    ],
)
def test_cuts_app_footers_in_every_language(footer: str) -> None:
    trimmed = trim_reply(f"A1 done\nA2 50%\n\n{footer}\n")
    assert trimmed.kept == "A1 done\nA2 50%"
    assert footer in trimmed.removed


@pytest.mark.parametrize(
    "signoff",
    [
        "Rosa",
        "Some One",
        "- Tom T.",
        "Thanks, Some One",
        "Gracias, Luis",
        "Saludos",
        "Saludos,\nRosa María",
        "Obrigada!\nAna",
        "Cordialement,\nJean Dupont",
        "Viele Grüße\nAnna",
        "Grazie, Marco",
        "Met vriendelijke groet,\nSanne de Vries",
        "Pozdrawiam,\nAnna",
    ],
)
def test_a_signoff_after_the_reply_is_cut(signoff: str) -> None:
    trimmed = trim_reply(f"A1 done\nA2 50%\n\n{signoff}")
    assert trimmed.kept == "A1 done\nA2 50%"
    assert trimmed.removed == signoff


@pytest.mark.parametrize(
    "text",
    [
        "done",
        "Done",
        "A1 listo",
        "Gracias",
        "Rosa",
        "A1 done\nStill Waiting",
        "A1 done\n\nThanks, A2 is at 50% now",
        "Gracias por preguntar. Hablamos el viernes.",
        "A2 blocked\nWaiting",
        "A1 moved to\nFriday",
        "A2 nueva fecha\nMarzo",
    ],
)
def test_a_reply_is_never_taken_for_a_signoff(text: str) -> None:
    assert trim_reply(text).kept == text


def test_text_below_a_quote_that_holds_our_marker_is_a_bottom_posted_reply() -> None:
    text = (
        f"On Mon, Nov 23, 2026 at 8:01 AM IEP Follow-up <{ADDRESS}> wrote:\n"
        "> Hello Rosa,\n> A1 — Homework\n>\n> —— Write your reply above this line ——\n>\n"
        ">     A1 done\n>     A2 50%\n\nA1 done, every night\n\nSent from my iPhone"
    )
    trimmed = trim_reply(text)
    assert trimmed.kept == "A1 done, every night"
    assert "A2 50%" in trimmed.removed


def test_a_bottom_posted_reply_under_a_quoted_outlook_header_is_kept() -> None:
    text = (
        "-----Original Message-----\nFrom: IEP Follow-up\nSent: Monday\nTo: Rosa\nSubject: Hi\n\n"
        "> Hello Rosa\n> A1 — Homework\n\nA1 done\n\nThanks,\nRosa"
    )
    assert trim_reply(text).kept == "A1 done"


def test_text_before_a_forwarded_message_is_kept() -> None:
    text = "A1 done, see below\n\n---------- Forwarded message ---------\nFrom: X <x@y.org>\nhello"
    assert trim_reply(text).kept == "A1 done, see below"


def test_text_after_a_quoted_forwarded_message_is_kept() -> None:
    text = (
        "---------- Forwarded message ---------\nFrom: IEP Follow-up <x@y.org>\nDate: Mon\n"
        "Subject: Check-in\nTo: Rosa\n\n> Hello Rosa\n> A1 — Homework\n\nA1 done"
    )
    assert trim_reply(text).kept == "A1 done"


def test_unquoted_text_inside_an_unquoted_original_is_unclear_not_dropped() -> None:
    text = (
        "-----Original Message-----\nFrom: IEP Follow-up\nSent: Monday\nTo: Rosa\nSubject: Hi\n\n"
        "Hello Rosa,\nA1 — Homework   DONE"
    )
    trimmed = trim_reply(text)
    assert (trimmed.kept, trimmed.unclear) == ("", True)
    assert "DONE" in trimmed.removed


def test_a_quote_alone_is_empty_and_not_unclear() -> None:
    trimmed = trim_reply(
        f"On Mon, Nov 23, 2026 X <{ADDRESS}> wrote:\n> Hello\n\nSent from my iPhone"
    )
    assert (trimmed.kept, trimmed.unclear) == ("", False)


def test_pipe_quoted_lines_are_quotes() -> None:
    trimmed = trim_reply("A1 done\n\n| Hello Rosa\n| A1 — Homework")
    assert trimmed.kept == "A1 done"
