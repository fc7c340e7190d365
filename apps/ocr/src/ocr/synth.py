"""Synthetic case-file pages with their ground truth, for the tests and the benchmark.

Pages are rendered with Pillow from court-style Chinese and English text in the CJK fonts
that Debian ships (fonts-noto-cjk, fonts-wqy-microhei), then degraded the way scans are:
rotated by a quarter turn, skewed by a few degrees, framed by black scanner edges, noisy.
Everything is seeded, so a corpus is the same on every machine.
"""

# ruff: noqa: RUF001 - Chinese full-width punctuation is meant
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# (path, face index within the collection) of Simplified-Chinese-capable fonts.
FONTS: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)

CHINESE_SENTENCES: tuple[str, ...] = (
    "北京互联网法院民事判决书",
    "原告张某某与被告某网络科技有限公司网络服务合同纠纷一案，本院于立案后依法适用普通程序。",
    "原告向本院提出诉讼请求：判令被告赔偿经济损失人民币五万元。",
    "被告辩称，原告的诉讼请求缺乏事实和法律依据，请求法院依法驳回。",
    "本院认为，当事人对自己提出的诉讼请求所依据的事实有责任提供证据加以证明。",
    "经审理查明，双方于二〇一八年三月签订电子商务平台服务协议；协议约定了服务期限。",
    "上述事实，有原告提交的电子证据、区块链存证记录及当事人陈述在案佐证。",
    "依照《中华人民共和国民事诉讼法》第六十四条之规定，判决如下：",
    "案件受理费一千零五十元，由被告负担，于本判决生效之日起七日内交纳。",
    "如不服本判决，可在判决书送达之日起十五日内向本院递交上诉状。",
    "审判长王某某，审判员李某某，人民陪审员赵某某，书记员陈某某。",
    "本案证据经庭审质证，被告对证据的真实性无异议，但对关联性有异议。",
    "原告主张被告未按约定履行合同义务，构成违约，应当承担违约责任。",
    "调解不成，本院依法作出判决，双方当事人均应自觉履行。",
    "本判决于二〇二〇年十月三十日作出；双方当事人于同日签收。",
    "网络购物合同纠纷的管辖法院为被告住所地或者合同履行地人民法院。",
    "起诉状副本及应诉通知书已于二〇一九年五月十日通过电子方式送达被告。",
)

ENGLISH_SENTENCES: tuple[str, ...] = (
    "Beijing Internet Court Civil Judgment",
    "The plaintiff filed the complaint online on 12 March 2019.",
    "The defendant argued that the evidence lacked a proper chain of custody.",
    "The court finds that the electronic evidence is authentic and admissible.",
    "Case number (2019) Jing 0491 Min Chu 12345.",
    "The hearing was held by video link with both parties present.",
    "The defendant shall pay damages of RMB 50,000 within ten days.",
    "Either party may appeal within fifteen days of service of this judgment.",
    "Presiding judge Wang, clerk Chen, court reporter Li.",
    "The hash value of the evidence was verified against the blockchain record.",
)


@dataclass
class SynthPage:
    """One rendered page and what is written on it."""

    name: str
    image: Image.Image
    lines: list[str]
    rotation: int = 0  # quarter turns applied clockwise, in degrees (0/90/180/270)
    skew: float = 0.0  # degrees, counter-clockwise
    tags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.image.save(buf, "PNG")
        return buf.getvalue()


def _font(size: int, which: int) -> ImageFont.FreeTypeFont:
    path, index = FONTS[which % len(FONTS)]
    return ImageFont.truetype(path, size, index=index)


NO_LINE_START = "。，、；：？！）》」』\u201d.,;:?!)"


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break a sentence into lines that fit: at spaces for English, anywhere for Chinese."""
    lines: list[str] = []
    current = ""
    tokens = text.split(" ") if text.isascii() else list(text)
    sep = " " if text.isascii() else ""
    for token in tokens:
        candidate = f"{current}{sep}{token}" if current else token
        if font.getlength(candidate) <= width:
            current = candidate
        else:
            if current:
                lines.append(current)
            current = token
    if current:
        lines.append(current)
    # kinsoku: a line never starts with closing punctuation; it hangs at the previous end
    for i in range(1, len(lines)):
        while lines[i] and lines[i][0] in NO_LINE_START:
            lines[i - 1] += lines[i][0]
            lines[i] = lines[i][1:]
    return [line for line in lines if line]


def render_page(
    rng: random.Random,
    *,
    size: tuple[int, int] = (900, 1200),
    font_px: int = 26,
    n_sentences: int = 6,
    english_share: float = 0.3,
    font_index: int | None = None,
) -> tuple[Image.Image, list[str]]:
    """An upright, clean page of court text (RGB) and its lines, top to bottom."""
    width, height = size
    font = _font(font_px, rng.randrange(len(FONTS)) if font_index is None else font_index)
    margin = int(width * 0.09)
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    lines: list[str] = []
    y = margin
    line_gap = int(font_px * 1.9)
    for _ in range(n_sentences):
        pool = ENGLISH_SENTENCES if rng.random() < english_share else CHINESE_SENTENCES
        for line in _wrap(rng.choice(pool), font, width - 2 * margin):
            if y + line_gap > height - margin:
                return img, lines
            draw.text((margin, y), line, fill=(20, 20, 20), font=font)
            lines.append(line)
            y += line_gap
        y += font_px // 2
    return img, lines


def rotate_quarter(img: Image.Image, degrees_clockwise: int) -> Image.Image:
    """Turn a page by a quarter turn clockwise, as a scanner that fed it sideways would."""
    return img.rotate(-degrees_clockwise, expand=True) if degrees_clockwise else img


def skew(img: Image.Image, degrees: float) -> Image.Image:
    return img.rotate(degrees, resample=Image.BICUBIC, expand=True, fillcolor="white")


def black_edges(img: Image.Image, rng: random.Random, *, width: int = 40) -> Image.Image:
    """Frame the page in uneven black bands, as a scanner lid leaves them."""
    w, h = img.size
    out = Image.new("RGB", (w + 2 * width, h + 2 * width), (8, 8, 8))
    out.paste(img, (width + rng.randint(-width // 2, width // 2), width))
    draw = ImageDraw.Draw(out)
    # a wedge on one side, as when the sheet lay crooked on the glass
    draw.polygon([(0, 0), (width * 3, 0), (0, h // 3)], fill=(0, 0, 0))
    return out


def noise(img: Image.Image, rng: random.Random, *, sigma: float = 12.0) -> Image.Image:
    """Gaussian grain, a little blur and salt-and-pepper specks."""
    arr = np.asarray(img).astype(np.float32)
    gen = np.random.default_rng(rng.randrange(2**32))
    arr += gen.normal(0, sigma, arr.shape)
    specks = gen.random(arr.shape[:2])
    arr[specks < 0.002] = 0
    arr[specks > 0.998] = 255
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return out.filter(ImageFilter.GaussianBlur(0.6))


KINDS = ("clean", "rotated", "skewed", "edges", "noisy")


def make_page(rng: random.Random, kind: str, name: str, **render: object) -> SynthPage:
    img, lines = render_page(rng, **render)  # type: ignore[arg-type]
    page = SynthPage(name=name, image=img, lines=lines, tags=[kind])
    if kind == "rotated":
        page.rotation = rng.choice((90, 180, 270))
        page.image = rotate_quarter(img, page.rotation)
    elif kind == "skewed":
        page.skew = rng.choice((-1, 1)) * rng.uniform(2.0, 6.0)
        page.image = skew(img, page.skew)
    elif kind == "edges":
        page.skew = rng.uniform(-1.5, 1.5)
        page.image = black_edges(skew(img, page.skew), rng)
    elif kind == "noisy":
        page.image = noise(img, rng)
    elif kind != "clean":
        raise ValueError(f"unknown page kind {kind!r}; one of {KINDS}")
    return page


def make_corpus(n_per_kind: int = 2, seed: int = 2019, **render: object) -> list[SynthPage]:
    """n pages of every kind, named `<kind>-<i>`."""
    rng = random.Random(seed)
    return [
        make_page(rng, kind, f"{kind}-{i}", **render)
        for kind in KINDS
        for i in range(n_per_kind)
    ]


def write_corpus(pages: list[SynthPage], directory: Path) -> None:
    """PNG pages with the ground truth beside them (`<name>.gt.txt`)."""
    directory.mkdir(parents=True, exist_ok=True)
    for page in pages:
        page.image.save(directory / f"{page.name}.png")
        (directory / f"{page.name}.gt.txt").write_text(page.text + "\n", encoding="utf-8")


def pdf_bytes(images: list[Image.Image], dpi: int = 150) -> bytes:
    """A PDF whose pages are the given images, as a scanner would produce it."""
    buf = io.BytesIO()
    first, *rest = [im.convert("RGB") for im in images]
    first.save(buf, "PDF", save_all=True, append_images=rest, resolution=dpi)
    return buf.getvalue()
