"""The network diagram: the input image, each hidden layer as a column of neurons (or of feature
maps), the outputs.

``selection`` decides from a network and one input which neurons and which connections are drawn
(pure NumPy); ``stages`` reads those inputs out of an ``nn_core`` network (dense, convolutional,
pooling and batch-norm layers), ``contributions`` saying for each kind of layer how much each unit
or channel pushed the next; ``figure`` draws a ``Diagram`` with Plotly, using ``geometry`` (where
each neuron goes) and ``labels`` (hover text, titles, notes); ``panel`` places it on a page with the
clicked neuron's details beside it, and ``one_image`` picks a test image for it in the playground's
test-set analysis.
"""

from ui.diagram.figure import diagram_figure, weight_image_figure
from ui.diagram.selection import Column, Diagram, Edges, Stage, build_diagram
from ui.diagram.stages import DiagramError, network_stages

__all__ = [
    "Column",
    "Diagram",
    "DiagramError",
    "Edges",
    "Stage",
    "build_diagram",
    "diagram_figure",
    "network_stages",
    "weight_image_figure",
]
