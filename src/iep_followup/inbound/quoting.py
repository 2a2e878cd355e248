"""What attributions, header blocks, separators, app footers and sign-offs look like.

Every pattern matches a folded line (lowercase, no accents, single spaces, no quoting) in
English, Spanish, Portuguese, French, German, Italian, Dutch or Polish, and is anchored.
"""

from __future__ import annotations

import re

# "On …", "El …", "Em …", "Le …", "Am …", "Il giorno …", "Op …", "W dniu …" (and Zoho's "---- On").
ATTRIBUTION_START = re.compile(r"(?:on|el|em|le|am|il|op|w dniu|dnia|wiadomosc napisana przez)\s")
# "2016-03-03 17:21 GMT+01:00 Name <addr>:", "2013/7/20 name via …", "23.11.2026 08:01, …"
DATE_FIRST = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}[ ,]")
WROTE_END = re.compile(
    r"(?:wrote|writes|escribio|escreveu|a ecrit|ha scritto|napisa[lł](?: ?\(a\)|a)?|pisze"
    r"|schrieb|schreef|geschreven)\s*(?::|-{2,})$"
)
# German and Dutch put the verb before the name ("Am … schrieb Name <addr>:"), Apple Mail
# in Polish before the date ("Wiadomość napisana przez Name <addr> w dniu …, o godz. 08:01:").
WROTE_BEFORE_NAME = re.compile(
    r"\b(?:schrieb|schreef)\b[^:]{1,200}:$|^wiadomosc napisana przez .{1,300} w dniu .{1,100}:$"
)
ADDRESS_END = re.compile(r"(?:@[^\s@]{1,200}|\bvia\b.{1,200})[>)\]]?\s*:?$")

FROM_LABEL = re.compile(r"\**(?:from|de|von|da|van|od)\s*:\**\s*\S")
OTHER_LABEL = re.compile(
    r"\**(?:sent|date|to|cc|bcc|subject|reply-to|importance|priority"
    r"|enviado(?: el| em)?|enviada(?: em)?|fecha|para|asunto|assunto|importancia|prioridade"
    r"|envoye(?: le)?|a|objet|sujet|gesendet|datum|an|betreff|kopie|wichtigkeit"
    r"|inviato|oggetto|verzonden|aan|onderwerp|wys[lł]ane|wys[lł]ano|do|temat|dw|data)"
    r"\s*:"
)

_SEPARATOR_PHRASES = (
    r"original message|mensaje original|mensagem original|message d['’]origine|message original"
    r"|ursprungliche nachricht|originalnachricht|original-nachricht|messaggio originale"
    r"|oorspronkelijk bericht|origineel bericht|wiadomosc oryginalna|oryginalna wiadomosc"
    r"|forwarded message|mensaje reenviado|mensagem encaminhada|mensagem reencaminhada"
    r"|message transfere|weitergeleitete nachricht|messaggio inoltrato|doorgestuurd bericht"
    r"|przekazana wiadomosc|wiadomosc przekazana|reply message"
)
SEPARATOR = re.compile(
    rf"[-=_*]{{2,}} ?(?:{_SEPARATOR_PHRASES}) ?[-=_*]{{2,}}"
    r"|(?:begin forwarded message|inicio del mensaje reenviado"
    r"|inicio da mensagem (?:re)?encaminhada|debut du message (?:reexpedie|transfere)"
    r"|anfang der weitergeleiteten (?:nachricht|e-mail)|inizio messaggio inoltrato"
    r"|begin doorgestuurd bericht|poczatek przekazywanej wiadomosci) ?:"
)
RULE = re.compile(r"[_=-]{8,}")

_DEVICE = (
    r"(?:my|mi|meu|minha|mon|ma|mio|il mio|mijn|mojego|moj|meinem|der|dem|o meu|o|la|el|le|the)\s\S"
    r"|(?:iphone|ipad|android|galaxy|samsung|huawei|xiaomi|blackberry|outlook|yahoo|aol|gmail"
    r"|proton|mail|correo|courrier|posta|poczta|airmail|spark|bluemail|aplikacji|telefono)\b"
)
FOOTER = re.compile(
    r"(?:sent|enviado|enviada|envoye|gesendet|inviato|verstuurd|verzonden|wys[lł]ane|wys[lł]ano)"
    r" (?:from|with|via|desde|con|do|da|dal|dalla|de|depuis|a partir de|avec|von|mit|vanaf"
    rf"|vanuit|met|via|z|ze|przez) (?:{_DEVICE}).{{0,60}}"
    r"|von meinem .{1,40} gesendet\.?"
    r"|(?:get|obtener|obtenga|obtenha|obter|descargar|descarga|download|baixe|baixar|obtenir"
    r"|telecharger|ottieni|scarica|pobierz|haal|download) (?:o |l['’])?outlook"
    r" (?:for|para|pour|per|dla|voor|fur)\b.{0,40}"
    r"|outlook (?:fur|voor) \S{1,20} (?:herunterladen|downloaden|holen)"
)

CLOSING = re.compile(
    r"(?:thanks|thank you|many thanks|thanks so much|thanks again|thx|cheers|best|all the best"
    r"|best regards|best wishes|regards|kind regards|warm regards|warmly|sincerely|take care"
    r"|gracias|muchas gracias|mil gracias|saludos|un saludo|saludos cordiales|atentamente"
    r"|cordialmente|abrazos|un abrazo|obrigado|obrigada|muito obrigado|muito obrigada|abracos"
    r"|um abraco|atenciosamente|cumprimentos|merci|merci beaucoup|cordialement|bien cordialement"
    r"|bien a vous|bonne journee|amities|danke|vielen dank|danke schon|viele grusse|liebe grusse"
    r"|beste grusse|mit freundlichen grussen|freundliche grusse|lg|mfg|vg|gruss|grazie"
    r"|grazie mille|saluti|cordiali saluti|distinti saluti|un saluto|buona giornata|bedankt"
    r"|dank je|dank u|dankjewel|groeten|met vriendelijke groet|vriendelijke groet|groetjes"
    r"|hartelijke groet|dzieki|dziekuje|pozdrawiam|pozdrowienia|serdecznie|z powazaniem)"
    r"(?P<punct> ?[,.!]*)(?: (?P<rest>.{1,60}))?"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that start with a capital but say how an item is going or when, not who wrote.
NOT_A_NAME = _words(
    "done listo lista hecho terminado terminada blocked bloqueado bloqueada started finished"
    " waiting pending ok okay yes no si sim oui ja tak nee nie sure perfect perfecto great"
    " fine good bien gracias thanks update updates today tomorrow hoy manana"
    " monday tuesday wednesday thursday friday saturday sunday"
    " lunes martes miercoles jueves viernes sabado domingo"
    " january february march april may june july august september october november december"
    " enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
)
NAME_PARTICLES = _words("de del la las los da das do dos van von der den y e el di le")

# A signature's lines under the name: a title, a school, a phone, an address.
SIGNATURE_LINE = re.compile(
    r".*\b(?:teacher|maestr[oa]|profesor[a]?|docente|therapist|terapeuta|pathologist|patologa?"
    r"|logopeda|fonoaudiologa?|specialist|especialista|coordinator|coordinador[a]?|counselor"
    r"|consejer[oa]|orientador[a]?|psychologist|psicolog[oa]|aide|paraprofessional|asistente"
    r"|principal|director[a]?|case manager|school|escuela|colegio|elementary|middle|high school"
    r"|primaria|secundaria|district|distrito|department|departamento|grade|grado|classroom"
    r"|aula|salon|room|sala|ot|pt|slp|ed\.?d|m\.?ed|m\.?s|m\.?a|ph\.?d|ccc-slp|otr/l"
    r"|special education|educacion especial|mother of|father of|mom of|dad of|mama de|papa de"
    r"|madre de|padre de|parent of|usd|isd|unified|academy|academia|institute|instituto|center"
    r"|centro|clinic|clinica|therapy|terapia|services|servicios|hospital)\b.*"
)
PHONE_OR_ADDRESS = re.compile(
    r"(?:(?:tel|phone|cell|mobile|fax|office|ext|telefono|cel|celular|movil|oficina)\.?:?\s*)?"
    r"[+()\d][\d\s().\-/]{6,}\d(?:\s*(?:x|ext\.?)\s*\d+)?"
    r"|\S+@\S+\.\S+|(?:https?://|www\.)\S+"
)
