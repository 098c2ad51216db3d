"""Colours used by every figure: the Okabe-Ito colour-blind-safe palette, extended to ten classes."""

CLASS_COLORS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
    "#999999",  # grey
    "#882255",  # wine
)
TRAIN_COLOR = "#0072B2"
VAL_COLOR = "#E69F00"
GOOD_COLOR = "#009E73"
BAD_COLOR = "#D55E00"
IMAGE_SCALE = "gray"  # 28x28 digits: white ink on black, as the network sees them
# the network diagram's dark board: connections that raise / lower the next neuron, the chosen neuron
RAISE_COLOR = "#56B4E9"  # sky blue
LOWER_COLOR = "#E69F00"  # orange
CHOSEN_COLOR = "#F0E442"  # yellow
