"""Plausible (made-up) Chinese place names for the demo district.

Names are two syllables drawn from two lists, then a suffix: 街道/镇 for
streets, 社区/村 for communities, 路/大道/街/巷 for roads. Draws use the
caller's numpy ``Generator`` only, so the same seed gives the same names.
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_names", "syllable_pairs"]

_FIRST = tuple(
    "新兴和平安康富民长春东南西北嘉禾秀湖梅湾凤鸣桂文昌青云瑞祥永宁清金银双"
    "溪花乐源福泽德丰华锦荷塘柳江建明光常盛泰恒通运育英望海"
)
_SECOND = tuple(
    "兴安园河桥港湾塘溪林里苑城岭山阳华丰泰盛宁康乐庄村湖苑洲渚滨浦泾荡门堰"
    "坊亭坝汇景晖和源埭浜泉春秋苗田茂"
)


def syllable_pairs() -> np.ndarray:
    """Every two-syllable name, in a fixed order (about 2,500)."""
    first = np.array(_FIRST, dtype=object)
    second = np.array(_SECOND, dtype=object)
    pairs = (first[:, None] + second[None, :]).ravel()
    # drop doubled syllables such as "湖湖"
    keep = np.array([p[0] != p[1] for p in pairs])
    return pairs[keep]


_PAIRS = syllable_pairs()


def draw_names(rng: np.random.Generator, n: int, *, unique: bool = True) -> np.ndarray:
    """Draw ``n`` two-syllable names; distinct when ``unique`` and ``n`` allows it."""
    if unique and n <= len(_PAIRS):
        return _PAIRS[rng.choice(len(_PAIRS), size=n, replace=False)]
    return _PAIRS[rng.integers(0, len(_PAIRS), size=n)]
