"""The Draw & predict page behind ``app_pages/draw.py``.

``input`` reads the canvas or an uploaded image and preprocesses it to 28x28; ``models`` picks the
model to predict with (and the shared default model); ``predict`` runs it and scores My digits;
``panels`` lays out the prediction, "look inside" and network views; ``digits`` is the My digits
section; ``figures`` builds the page's Plotly charts.
"""
