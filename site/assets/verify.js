// written by site-browser
