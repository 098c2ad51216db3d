"""Streamlit-side helpers shared by the pages (the engine itself is ``nn_core``, with no Streamlit).

- ``datasets``: cached dataset loaders and the panel shown when data is missing;
- ``model_choices``: the models a person can predict with (live runs, saved runs, model files);
- ``palette``: the colour-blind-safe colours every figure uses; ``plots``: shared figure helpers;
- ``training/``: the playground's run workers, registry, state and figures;
- ``draw/``: the Draw page's input, model choice, prediction and panels;
- ``explorer/``: the dataset explorer's statistics, figures and tab bodies;
- ``diagram/``: the network diagram (which neurons and connections to draw, the figure, its panel).
Figures are pure functions returning Plotly figures, testable without a browser.
"""
