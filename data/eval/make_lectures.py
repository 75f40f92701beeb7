"""Make the lectures eval set: 12 spoken lectures of 7 scenes, and data/eval/lectures.jsonl.

Harder than the talks (make_talks.py): each scene is three spoken sentences, lectures come in
pairs on neighbouring topics (volcanoes and earthquakes, bees and migrating birds, coffee and
tea, ...), and spoken queries say what one sentence means in other words, so a query shares few
content words with its scene and many scenes are about nearly the same thing. Keyword queries
are names, terms and phrases said in exactly one scene; unanswerable queries have no scene.

Each scene is one photo and its sentences (espeak-ng), rendered by data/make_samples.py; every
shot lasts exactly SHOT_S seconds, so relevant ranges do not depend on the espeak-ng version
(the generator fails loudly when a scene is too long to speak in one shot). The videos
(≈ 22 min in all) are not in git; the queries are:

    python data/eval/make_lectures.py                  # videos into data/eval/lectures/
    python data/eval/make_lectures.py --out-dir DIR --queries FILE
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # make_samples
from make_samples import VideoSpec, fixed_shots, render_set  # noqa: E402

SHOT_S = 16.0
# Scenes are relevant from just after their cut to just before the next one.
INSET_S = (0.5, 1.0)
# Not "gravel": the slow zoom over its fine grain reads as a cut (a 16 s shot became two).
PHOTOS = ["rocket", "camera", "coffee", "coins", "astronaut", "moon", "chelsea", "horse",
          "hubble_deep_field", "clock", "immunohistochemistry", "brick", "colorwheel"]  # fmt: skip

# file name: the scenes' speech, in order
LECTURES: dict[str, list[str]] = {
    "volcanoes.mp4": [
        "Deep below the crust, rock melts into magma that slowly rises toward the surface. "
        "When pressure builds too far, the mountain erupts. "
        "Geologists call the molten rock lava once it flows outside.",
        "In the year seventy nine, Vesuvius buried the Roman town of Pompeii under ash. "
        "Thousands of people had no time to escape. "
        "Their shapes were preserved in the hardened dust.",
        "Hawaii sits above a hot spot in the Pacific plate. "
        "As the plate drifts northwest, new islands form one after another. "
        "The oldest islands are slowly sinking back into the sea.",
        "Volcanic gases such as sulfur dioxide can cool the whole planet. "
        "After Tambora exploded in eighteen fifteen, Europe had a year without a summer. "
        "Crops failed across many countries.",
        "Scientists place tiltmeters on the slopes to measure the ground swelling. "
        "Small earthquakes often come before an eruption. "
        "Together these signals help warn nearby villages.",
        "The soil around old volcanoes is extremely fertile. "
        "Farmers grow grapes and coffee on the slopes of Etna. "
        "That is why people keep living near danger.",
        "Iceland uses the heat underground to warm its homes and make electricity. "
        "Hot water is piped straight into the capital. "
        "Even the sidewalks are heated in winter.",
    ],
    "earthquakes.mp4": [
        "The outer shell of the earth is broken into large plates. "
        "Where two plates grind past each other, stress slowly accumulates. "
        "Eventually the rock snaps and the ground shakes.",
        "The San Andreas fault runs through California for more than a thousand kilometres. "
        "Cities like San Francisco sit right beside it. "
        "Residents practice drills at school and at work.",
        "Seismographs record the shaking as wavy lines on a chart. "
        "The first waves to arrive squeeze the rock, the later ones shear it. "
        "Comparing their arrival times tells us the distance.",
        "An undersea quake can lift the ocean floor and start a tsunami. "
        "The wave travels as fast as a jet across open water. "
        "Near the shore it grows into a towering wall.",
        "Japanese engineers build towers on rubber bearings that absorb motion. "
        "Some skyscrapers even have giant pendulums near the top. "
        "These designs let tall buildings sway without breaking.",
        "Aftershocks can continue for months after the main shock. "
        "Damaged buildings may collapse during a later tremor. "
        "Rescue teams therefore check every structure before people return.",
        "Nobody can predict the exact day of the next big earthquake. "
        "Instead experts estimate the chance over several decades. "
        "Those maps decide how strict local building codes must be.",
    ],
    "honeybees.mp4": [
        "A colony can hold sixty thousand bees but only one queen. "
        "She lays up to two thousand eggs a day. "
        "The workers feed and clean her constantly.",
        "Foragers tell each other where flowers are with a waggle dance. "
        "The angle of the dance points relative to the sun. "
        "Its length shows how far away the food is.",
        "Bees pollinate about a third of the crops we eat. "
        "Almonds in California depend almost entirely on them. "
        "Beekeepers truck their hives across the country each spring.",
        "A tiny parasitic mite called Varroa has spread around the world. "
        "It weakens the bees and carries viruses into the hive. "
        "Many colonies collapse during winter because of it.",
        "Nectar is carried home and fanned by wings until most of the water evaporates. "
        "The thick syrup becomes honey. "
        "The bees seal it under a wax cap for later.",
        "In winter the bees cluster together and shiver their flight muscles. "
        "The centre of the ball stays warm even during frost. "
        "They slowly eat the stored honey to survive.",
        "Wild bumblebees are also disappearing as meadows are ploughed. "
        "Planting native flowers along roads gives them food. "
        "Even a small garden can help.",
    ],
    "bird_migration.mp4": [
        "Every autumn billions of birds fly south to find food for the winter. "
        "Some travel only a few hundred kilometres. "
        "Others cross entire continents.",
        "The Arctic tern flies from pole to pole and back every year. "
        "Over its life it covers the distance to the moon three times. "
        "It sees more daylight than any other animal.",
        "Birds find their way using the stars, the sun and the magnetic field of the earth. "
        "Young birds inherit a rough direction from their parents. "
        "Experience refines the route over time.",
        "Before departure many birds double their body weight by eating constantly. "
        "This fat is the fuel for the journey. "
        "Some songbirds fly for three days without landing.",
        "Storks avoid the open sea because warm air does not rise over water. "
        "They gather at Gibraltar and cross where the strait is narrowest. "
        "Thousands circle upward on thermals.",
        "Bright city lights at night confuse migrating birds. "
        "Many crash into glass towers. "
        "Some cities now switch off office lights during the migration season.",
        "Volunteers put tiny numbered rings on the legs of birds. "
        "When a ringed bird is found again, we learn where it travelled. "
        "Modern trackers weigh less than a paper clip.",
    ],
    "coffee.mp4": [
        "Coffee plants grow best in the mountains near the equator. "
        "The beans are actually the seeds of a red cherry. "
        "Pickers harvest them by hand on steep slopes.",
        "Arabica has a sweeter flavour and grows at high altitude. "
        "Robusta tolerates heat and contains almost twice the caffeine. "
        "Most instant coffee is made from robusta.",
        "After picking, the fruit is removed and the seeds are dried in the sun. "
        "Farmers rake them for days so they dry evenly. "
        "Then the green beans are sorted and shipped.",
        "Roasting turns green beans brown and creates hundreds of aromas. "
        "A light roast keeps more acidity and fruit. "
        "A dark roast tastes bitter and smoky.",
        "Legend says a goat herder in Ethiopia noticed his animals dancing after eating the "
        "berries. Monks later used the drink to stay awake during prayer. "
        "It spread through Yemen to the rest of the world.",
        "An espresso machine forces hot water through finely ground coffee at high pressure. "
        "The shot takes about twenty five seconds. "
        "A golden foam called crema should sit on top.",
        "Caffeine blocks a chemical in the brain that makes us feel tired. "
        "Its effect lasts five to six hours. "
        "Drinking it late in the afternoon can ruin your sleep.",
    ],
    "tea.mp4": [
        "All true tea comes from a single plant, Camellia sinensis. "
        "Green, black and oolong differ only in how the leaves are processed. "
        "Herbal drinks are not really tea at all.",
        "Black tea leaves are rolled and left to oxidise until they turn dark. "
        "Green tea is heated quickly to stop that change. "
        "This keeps its fresh grassy taste.",
        "In Japan the tea ceremony is a slow ritual of precise movements. "
        "Powdered matcha is whisked in a bowl. "
        "Guests admire the cup before drinking.",
        "British merchants smuggled tea plants out of China in the nineteenth century. "
        "They started huge plantations in Assam and Darjeeling. "
        "India soon became a major producer.",
        "Water that is too hot makes green tea bitter. "
        "Let the kettle cool for a minute first. "
        "Steep black tea for about four minutes.",
        "Tea contains caffeine but also a calming substance called theanine. "
        "Together they give a focused alertness without jitters. "
        "That is why monks drank it while meditating.",
        "The Boston Tea Party was a protest against taxes imposed from London. "
        "Colonists dumped crates of tea into the harbour. "
        "It helped spark the American revolution.",
    ],
    "early_flight.mp4": [
        "In nineteen oh three the Wright brothers flew for twelve seconds at Kitty Hawk. "
        "Their engine was built in their own bicycle shop. "
        "Few newspapers believed the story at first.",
        "A wing is curved so that air moves faster over the top. "
        "The pressure above drops and the wing is pushed up. "
        "This force is called lift.",
        "Charles Lindbergh crossed the Atlantic alone in nineteen twenty seven. "
        "The flight took thirty three hours without sleep. "
        "He became famous overnight.",
        "Amelia Earhart vanished over the Pacific while trying to fly around the world. "
        "Her plane was never found. "
        "Searchers still look for clues on remote islands.",
        "Early passenger planes were noisy, cold and shook constantly. "
        "Travellers wore coats and sometimes got airsick. "
        "Flying was a luxury only the rich could afford.",
        "The jet engine sucks in air, compresses it and burns fuel. "
        "The hot gas rushes out the back and pushes the plane forward. "
        "Jets made flights twice as fast.",
        "Airships filled with hydrogen once carried passengers across the ocean. "
        "The Hindenburg burst into flames while landing in New Jersey. "
        "After that disaster nobody trusted them.",
    ],
    "railways.mp4": [
        "The first public steam railway opened in England in eighteen twenty five. "
        "Crowds gathered to watch the locomotive pull coal wagons. "
        "Many feared the speed would suffocate passengers.",
        "Railways forced towns to agree on a single standard time. "
        "Before that every city set its clocks by the local sun. "
        "Timetables were impossible without it.",
        "Thousands of workers laid the track across the American west. "
        "They blasted tunnels through the Sierra Nevada by hand. "
        "A golden spike marked the meeting of the two lines in Utah.",
        "The Orient Express ran from Paris to Istanbul. "
        "Its carriages had wood panels, fine dining and silk curtains. "
        "Novelists set murder mysteries on board.",
        "Japan opened the Shinkansen bullet train in nineteen sixty four. "
        "It reaches three hundred kilometres an hour. "
        "Its average delay is less than a minute.",
        "Maglev trains float above the track using powerful magnets. "
        "With no wheels touching, there is almost no friction. "
        "A test train in Japan has gone over six hundred kilometres an hour.",
        "A freight train moves goods using a fraction of the fuel of trucks. "
        "One train can replace hundreds of lorries on the road. "
        "That makes rail important for cutting emissions.",
    ],
    "immune_system.mp4": [
        "White blood cells patrol the body looking for invaders. "
        "Some swallow bacteria whole. "
        "Others release chemicals that call for help.",
        "Antibodies are Y shaped proteins that lock onto a specific germ. "
        "Each one fits only its own target. "
        "Once attached, they mark the germ for destruction.",
        "Edward Jenner noticed that milkmaids who caught cowpox never got smallpox. "
        "In seventeen ninety six he tested the idea on a boy. "
        "This was the first vaccine.",
        "A vaccine shows the immune system a harmless piece of a virus. "
        "The body learns to recognise it without getting sick. "
        "Memory cells remember it for years.",
        "A fever is not the illness itself but part of the defence. "
        "Higher temperature slows the growth of many microbes. "
        "It also speeds up the immune response.",
        "Allergies happen when the body overreacts to harmless things like pollen. "
        "The immune system releases histamine. "
        "That causes sneezing, itching and watery eyes.",
        "When enough people are immune, a disease cannot spread easily. "
        "This protects babies and the sick who cannot be vaccinated. "
        "Experts call this herd immunity.",
    ],
    "sleep_science.mp4": [
        "Adults need between seven and nine hours of sleep each night. "
        "Teenagers need even more. "
        "Most people get less than they need.",
        "Sleep comes in cycles of about ninety minutes. "
        "Deep sleep repairs the body early in the night. "
        "Dreaming sleep grows longer toward the morning.",
        "During rapid eye movement sleep the brain is almost as active as when awake. "
        "This is when most vivid dreams happen. "
        "The muscles are paralysed so we do not act them out.",
        "Melatonin is released when it gets dark and tells the body it is night. "
        "Screens emit blue light that delays it. "
        "Put your phone away an hour before bed.",
        "Flying across time zones shifts your internal clock. "
        "The body adjusts by roughly one hour per day. "
        "Morning sunlight helps you recover faster.",
        "Missing sleep weakens memory and attention the next day. "
        "Drivers who are very tired react as slowly as drunk drivers. "
        "Accidents rise after the clocks change.",
        "Snoring can be a sign of sleep apnea, when breathing stops for seconds. "
        "The sleeper wakes briefly many times without noticing. "
        "A mask that pushes air solves it.",
    ],
    "solar_power.mp4": [
        "A solar panel is made of silicon cells that turn sunlight into electricity. "
        "Light knocks electrons loose and they flow as current. "
        "No moving parts are needed.",
        "The price of solar panels has fallen by ninety percent in ten years. "
        "In many countries it is now the cheapest power ever built. "
        "Investment has grown every year.",
        "Panels produce nothing at night and less on cloudy days. "
        "Grid operators must balance supply with other sources. "
        "Storage helps smooth out the gaps.",
        "In the Sahara, a square of panels the size of a small country could power the world. "
        "The problem is carrying that power over long distances. "
        "Cables lose energy along the way.",
        "Rooftop panels let households sell extra electricity back to the grid. "
        "Their meter can run backwards on sunny afternoons. "
        "Some families pay nothing for power in summer.",
        "Dust and sand reduce how much light reaches the cells. "
        "In deserts robots clean the panels every night. "
        "A dirty panel can lose a quarter of its output.",
        "Concentrated solar plants use thousands of mirrors to focus sunlight on a tower. "
        "The heat melts salt that stores energy for hours. "
        "Turbines keep spinning after sunset.",
    ],
    "batteries.mp4": [
        "A lithium ion battery moves charged atoms between two electrodes. "
        "Charging pushes them one way, using the battery lets them flow back. "
        "This is what powers your phone.",
        "Electric cars carry batteries weighing about half a tonne. "
        "A modern car can drive four hundred kilometres on one charge. "
        "Fast chargers fill most of it in half an hour.",
        "Batteries wear out as they go through many cycles. "
        "Keeping the charge between twenty and eighty percent makes them last longer. "
        "Heat is their worst enemy.",
        "Much of the world's cobalt is mined in the Congo, sometimes by children. "
        "Carmakers are trying to design batteries without it. "
        "Iron phosphate cells are one option.",
        "Old car batteries can get a second life storing energy for buildings. "
        "Later their metals can be recovered and reused. "
        "Recycling could supply a large share of future demand.",
        "Large battery farms store cheap power during the day and release it in the evening. "
        "They respond in milliseconds when the grid is under stress. "
        "Australia built one of the first giant ones.",
        "Solid state batteries replace the liquid inside with a solid material. "
        "They could hold more energy and never catch fire. "
        "Several companies hope to sell them within a few years.",
    ],
}

# (kind, query, file, scene number); spoken queries were written from the meaning of one
# sentence, avoiding its words; keyword queries are said in exactly that scene, and are words
# that faster-whisper tiny.en writes as they are spelled (it hears "Tambora", "Varroa" or
# "theanine" from espeak-ng as other words: such a query tests transcription, not ranking).
QUERIES: list[tuple[str, str, str, int]] = [
    ("spoken", "an ancient city smothered during a disaster long ago", "volcanoes.mp4", 1),
    ("spoken", "land born piece by piece as the ocean floor slides across a fixed heat source",
     "volcanoes.mp4", 2),
    ("spoken", "a cold year with ruined harvests after a huge blast", "volcanoes.mp4", 3),
    ("spoken", "instruments that detect a hillside bulging to give early warning",
     "volcanoes.mp4", 4),
    ("spoken", "why people stay on rich farmland beside dangerous peaks", "volcanoes.mp4", 5),
    ("spoken", "a nation that heats houses with warmth from inside the earth",
     "volcanoes.mp4", 6),
    ("spoken", "how a tower can lean back and forth in a tremor and stay standing",
     "earthquakes.mp4", 4),
    ("spoken", "working out how far away it happened from when the different vibrations show up",
     "earthquakes.mp4", 2),
    ("spoken", "a giant surge of sea water after the seabed lurches up", "earthquakes.mp4", 3),
    ("spoken", "why inspectors look at every house before families move back in",
     "earthquakes.mp4", 5),
    ("spoken", "forecasting is only possible as odds across many years", "earthquakes.mp4", 6),
    ("spoken", "insects showing nest mates the route to food through movement",
     "honeybees.mp4", 1),
    ("spoken", "a small pest that brings disease and kills hives in the cold months",
     "honeybees.mp4", 3),
    ("spoken", "how the sweet liquid loses moisture and thickens", "honeybees.mp4", 4),
    ("spoken", "huddling and trembling to keep warm when it freezes", "honeybees.mp4", 5),
    ("spoken", "nut orchards that rely on hired pollinators brought in by lorry",
     "honeybees.mp4", 2),
    ("spoken", "steering by the night sky and an inner compass", "bird_migration.mp4", 2),
    ("spoken", "eating nonstop to store energy before a long trip", "bird_migration.mp4", 3),
    ("spoken", "big birds that skip the open ocean and soar in spirals at a narrow channel",
     "bird_migration.mp4", 4),
    ("spoken", "skyscraper lighting after dark kills travellers in flight",
     "bird_migration.mp4", 5),
    ("spoken", "marking birds with little bands on their feet to learn where they went",
     "bird_migration.mp4", 6),
    ("spoken", "a shepherd saw his flock get lively after nibbling the fruit", "coffee.mp4", 4),
    ("spoken", "heating the seeds until they darken and develop their smell", "coffee.mp4", 3),
    ("spoken", "why a cup too late in the day keeps you up in bed", "coffee.mp4", 6),
    ("spoken", "leaving the harvest outdoors to lose moisture while workers keep stirring it",
     "coffee.mp4", 2),
    ("spoken", "a short strong brew pushed under force, topped with a tan froth",
     "coffee.mp4", 5),
    ("spoken", "traders secretly carried bushes out of one country to farm them elsewhere",
     "tea.mp4", 3),
    ("spoken", "letting leaves darken in the air versus cooking them fast", "tea.mp4", 1),
    ("spoken", "a calm but awake feeling without nervous shakes", "tea.mp4", 5),
    ("spoken", "rebels throwing cargo into the water to oppose duties", "tea.mp4", 6),
    ("spoken", "a formal gathering where a green powder is beaten with water", "tea.mp4", 2),
    ("spoken", "the first powered trip lasted a moment and reporters doubted it",
     "early_flight.mp4", 0),
    ("spoken", "how the shape of a plane's arms makes it rise", "early_flight.mp4", 1),
    ("spoken", "a woman pilot who disappeared on a global attempt", "early_flight.mp4", 3),
    ("spoken", "an ocean crossing with no co-pilot and no rest", "early_flight.mp4", 2),
    ("spoken", "a giant balloon craft that caught fire", "early_flight.mp4", 6),
    ("spoken", "uncomfortable freezing journeys that only the wealthy could pay for",
     "early_flight.mp4", 4),
    ("spoken", "why every town needed the same hour for schedules to work", "railways.mp4", 1),
    ("spoken", "a luxurious long distance service that inspired crime novels",
     "railways.mp4", 3),
    ("spoken", "hovering over the line with no contact so there is little drag",
     "railways.mp4", 5),
    ("spoken", "early spectators worried that going fast would stop people breathing",
     "railways.mp4", 0),
    ("spoken", "moving cargo this way is much greener than by road", "railways.mp4", 6),
    ("spoken", "dairy workers who seemed protected from a deadly disease",
     "immune_system.mp4", 2),
    ("spoken", "running hot is actually your defences at work", "immune_system.mp4", 4),
    ("spoken", "the body reacting too strongly to flowers and dust", "immune_system.mp4", 5),
    ("spoken", "many protected people shield those who cannot get the shot",
     "immune_system.mp4", 6),
    ("spoken", "proteins that grab one particular intruder and tag it", "immune_system.mp4", 1),
    ("spoken", "cells that roam around and eat germs", "immune_system.mp4", 0),
    ("spoken", "the phase when the mind is busy but the limbs cannot move",
     "sleep_science.mp4", 2),
    ("spoken", "devices in the bedroom hold back the hormone of darkness",
     "sleep_science.mp4", 3),
    ("spoken", "getting over travel fatigue after a long trip east", "sleep_science.mp4", 4),
    ("spoken", "exhausted motorists are as dangerous as those who have been drinking",
     "sleep_science.mp4", 5),
    ("spoken", "loud nighttime noise that can mean the airway keeps closing",
     "sleep_science.mp4", 6),
    ("spoken", "the night moves through repeating stages of about an hour and a half",
     "sleep_science.mp4", 1),
    ("spoken", "costs have collapsed over the last decade", "solar_power.mp4", 1),
    ("spoken", "homes earning money by exporting what their roof makes", "solar_power.mp4", 4),
    ("spoken", "machines that wipe grime off after dark in dry regions", "solar_power.mp4", 5),
    ("spoken", "a huge array in north Africa could supply everyone but transmission is hard",
     "solar_power.mp4", 3),
    ("spoken", "reflectors aimed at one point heat a material that keeps running after dark",
     "solar_power.mp4", 6),
    ("spoken", "how to treat a pack so it lasts for many years", "batteries.mp4", 2),
    ("spoken", "a scarce metal dug up in harsh conditions, including by kids",
     "batteries.mp4", 3),
    ("spoken", "giving used car packs a new job before melting them down", "batteries.mp4", 4),
    ("spoken", "huge storage sites that soak up midday energy and supply it at dinner time",
     "batteries.mp4", 5),
    ("spoken", "a new design with no fluid inside that would not burn", "batteries.mp4", 6),
    ("spoken", "how far a car goes before it needs plugging in", "batteries.mp4", 1),
    ("keyword", "sulfur dioxide", "volcanoes.mp4", 3),
    ("keyword", "Vesuvius", "volcanoes.mp4", 1),
    ("keyword", "Iceland", "volcanoes.mp4", 6),
    ("keyword", "San Andreas", "earthquakes.mp4", 1),
    ("keyword", "rubber bearings", "earthquakes.mp4", 4),
    ("keyword", "building codes", "earthquakes.mp4", 6),
    ("keyword", "waggle dance", "honeybees.mp4", 1),
    ("keyword", "almonds", "honeybees.mp4", 2),
    ("keyword", "meadows", "honeybees.mp4", 6),
    ("keyword", "songbirds", "bird_migration.mp4", 3),
    ("keyword", "glass towers", "bird_migration.mp4", 5),
    ("keyword", "thermals", "bird_migration.mp4", 4),
    ("keyword", "instant coffee", "coffee.mp4", 1),
    ("keyword", "crema", "coffee.mp4", 5),
    ("keyword", "Ethiopia", "coffee.mp4", 4),
    ("keyword", "tea ceremony", "tea.mp4", 2),
    ("keyword", "Darjeeling", "tea.mp4", 3),
    ("keyword", "meditating", "tea.mp4", 5),
    ("keyword", "Kitty Hawk", "early_flight.mp4", 0),
    ("keyword", "Lindbergh", "early_flight.mp4", 2),
    ("keyword", "Hindenburg", "early_flight.mp4", 6),
    ("keyword", "Orient Express", "railways.mp4", 3),
    ("keyword", "Shinkansen", "railways.mp4", 4),
    ("keyword", "Sierra Nevada", "railways.mp4", 2),
    ("keyword", "Edward Jenner", "immune_system.mp4", 2),
    ("keyword", "sneezing", "immune_system.mp4", 5),
    ("keyword", "babies", "immune_system.mp4", 6),
    ("keyword", "melatonin", "sleep_science.mp4", 3),
    ("keyword", "sleep apnea", "sleep_science.mp4", 6),
    ("keyword", "teenagers", "sleep_science.mp4", 0),
    ("keyword", "silicon", "solar_power.mp4", 0),
    ("keyword", "Sahara", "solar_power.mp4", 3),
    ("keyword", "mirrors", "solar_power.mp4", 6),
    ("keyword", "cobalt", "batteries.mp4", 3),
    ("keyword", "solid state", "batteries.mp4", 6),
    ("keyword", "Australia", "batteries.mp4", 5),
]  # fmt: skip

# Nothing in the lectures answers these; several sit next to a lecture's topic.
UNANSWERABLE = [
    "how to teach a puppy to sit",
    "the rules of cricket",
    "knitting a wool scarf for beginners",
    "filing a tax return as a freelancer",
    "how glaciers carve deep valleys",
    "the life cycle of a butterfly",
    "making fresh pasta by hand",
    "the plot of a famous opera",
]


def specs() -> list[VideoSpec]:
    # x264's fastest preset at 10 fps and 320x180: 22 minutes of zooming photos render in a few
    # minutes, and nothing in this set needs more pixels (no on-screen text, no faces searched).
    options = {"crf": "30", "preset": "ultrafast"}
    return fixed_shots(LECTURES, PHOTOS, 7, SHOT_S, options=options, fps=10, size=(320, 180))


def queries() -> list[dict[str, object]]:
    """The QUERIES.jsonl lines: relevant ranges from the fixed shot length."""
    lines: list[dict[str, object]] = []
    for kind, text, video, scene in QUERIES:
        if video not in LECTURES or not 0 <= scene < len(LECTURES[video]):
            raise SystemExit(f"query {text!r}: no scene {scene} in {video}")
        start, end = scene * SHOT_S + INSET_S[0], (scene + 1) * SHOT_S - INSET_S[1]
        lines.append({"query": text, "kind": kind,
                      "relevant": [{"video": video, "start": start, "end": end}]})  # fmt: skip
    lines += [{"query": text, "kind": "unanswerable", "relevant": []} for text in UNANSWERABLE]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE / "lectures")
    parser.add_argument("--queries", type=Path, default=HERE / "lectures.jsonl")
    parser.add_argument("--queries-only", action="store_true", help="write only the queries")
    args = parser.parse_args()
    args.queries.write_text("".join(json.dumps(line) + "\n" for line in queries()))
    if args.queries_only:
        return
    render_set(specs(), args.out_dir, SHOT_S, "data/eval/make_lectures.py")


if __name__ == "__main__":
    main()
