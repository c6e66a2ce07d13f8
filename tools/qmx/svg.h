/* SPDX-License-Identifier: MIT */
/* svg.h - small plain-SVG 1.1 writers shared by the tool's charts. */
#ifndef QMX_CLI_SVG_H
#define QMX_CLI_SVG_H

#include <stdio.h>

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

#endif
