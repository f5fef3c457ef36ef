"""Images on disk (set3c, CBSD68, CBSD432, scikit-image photos), where the data folder is, the
download command, and the simulation of one deblurring problem for the datasets."""
