"""Make the talks eval set: 8 short spoken talks (5 scenes each) for data/eval/queries.jsonl.

Each scene is one photo and one spoken sentence (espeak-ng), rendered by data/make_samples.py.
Every shot lasts exactly SHOT_S seconds, so scene times (and the relevant ranges in
queries.jsonl) do not depend on how fast a given espeak-ng version speaks; the generator
checks that and fails loudly otherwise. The videos (≈ 5 min in all, ≈ 7 MB) are not in git:

    python data/eval/make_talks.py                  # into data/eval/talks/ (git-ignored)
    python data/eval/make_talks.py --out-dir DIR

Themes overlap on purpose (space, computers, money, food) so that meaning alone can pick the
wrong scene; queries.jsonl holds spoken paraphrases, names and terms, and unanswerable queries.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # make_samples
from make_samples import VideoSpec, fixed_shots, render_set  # noqa: E402

SHOT_S = 7.0
# Colour and grey photos alternate, so each cut changes hue, saturation and brightness.
PHOTOS = ["rocket", "camera", "coffee", "coins", "astronaut", "moon", "chelsea", "horse",
          "hubble_deep_field", "clock", "immunohistochemistry", "brick", "colorwheel",
          "gravel"]  # fmt: skip

TALKS: dict[str, list[str]] = {
    "mars_mission.mp4": [
        "Our rover landed safely in Jezero crater after a seven month journey.",
        "The drill collected rock samples that may hold traces of ancient water.",
        "Dust storms can cover the entire planet for several weeks.",
        "Engineers in Pasadena send new commands to the rover every morning.",
        "A small helicopter named Ingenuity flew in the thin Martian air.",
    ],
    "bread_baking.mp4": [
        "Mix flour, water and salt, then let the dough rest for an hour.",
        "A sourdough starter needs to be fed every single day.",
        "Bake the loaf in a very hot oven until the crust turns brown.",
        "Let the bread cool completely before you slice it.",
        "Stale bread makes excellent croutons for a winter soup.",
    ],
    "ocean_life.mp4": [
        "Coral reefs are home to a quarter of all marine species.",
        "Warmer water causes the coral to turn white and starve.",
        "Humpback whales sing long songs that travel across the ocean.",
        "Turtles mistake plastic bags drifting in the sea for jellyfish.",
        "An octopus can change its colour in a fraction of a second.",
    ],
    "city_history.mp4": [
        "The old bridge was built by the Romans nearly two thousand years ago.",
        "A great fire destroyed most of the wooden houses in the town.",
        "The railway station opened in the eighteen forties.",
        "The cathedral took more than a century to finish.",
        "Today the market square is full of cafes and street musicians.",
    ],
    "money_talk.mp4": [
        "Paying off the credit card first saves the most interest.",
        "An emergency fund should cover three to six months of expenses.",
        "Index funds spread your savings across hundreds of companies.",
        "Inflation slowly eats away at cash kept under the mattress.",
        "Write down every purchase for a month to see where the money goes.",
    ],
    "garden_tips.mp4": [
        "Tomatoes need at least six hours of direct sunlight every day.",
        "Water the garden early so the leaves dry before the evening.",
        "Earthworms make the soil richer and help the roots breathe.",
        "Plant garlic in the autumn and harvest it next summer.",
        "Ladybirds eat the aphids that attack your roses.",
    ],
    "computer_history.mp4": [
        "Ada Lovelace wrote the first published algorithm for a machine.",
        "Early computers filled entire rooms and used thousands of vacuum tubes.",
        "The transistor made machines smaller, cheaper and far more reliable.",
        "Linus Torvalds released the Linux kernel as a hobby project.",
        "A phone now holds more memory than the computers that went to the moon.",
    ],
    "fitness_coach.mp4": [
        "Warm up for ten minutes before you start running.",
        "Drink plenty of water during a long workout in the heat.",
        "Muscles grow while you rest, so sleep at least eight hours.",
        "Squats and lunges build strength in the legs.",
        "Stretch slowly after training to avoid injuries.",
    ],
}


def specs() -> list[VideoSpec]:
    return fixed_shots(TALKS, PHOTOS, 5, SHOT_S)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE / "talks")
    args = parser.parse_args()
    render_set(specs(), args.out_dir, SHOT_S, "data/eval/make_talks.py")


if __name__ == "__main__":
    main()
