/* SPDX-License-Identifier: MIT */
/* svg.h - small plain-SVG 1.1 writers shared by the tool's charts. */
#ifndef QMX_CLI_SVG_H
#define QMX_CLI_SVG_H

#include <stdio.h>

/* The XML declaration and <svg> element of a width x height drawing on
 * a white background; close it with "</svg>". */
void svg_begin(FILE *f, int width, int height);
/* Text with XML's special characters escaped (control characters dropped). */
void svg_escape(FILE *f, const char *s);
/* <text> at x, y; anchor "start" | "middle" | "end". */
void svg_text(FILE *f, double x, double y, const char *anchor, int size, const char *fill,
	      const char *s);
/* <rect>, with a hover <title> when title is not NULL; negative sizes draw nothing. */
void svg_rect(FILE *f, double x, double y, double w, double h, const char *fill,
	      const char *stroke, const char *title);
void svg_line(FILE *f, double x1, double y1, double x2, double y2, const char *stroke,
	      double width, const char *dash);

/* <circle>, with a hover <title> when title is not NULL. */
void svg_circle(FILE *f, double cx, double cy, double r, const char *fill, const char *title);
/* An open <polyline> through n points (nothing for n < 2). */
void svg_polyline(FILE *f, const double *xs, const double *ys, int n, const char *stroke,
		  double width, const char *dash);

#endif
