# cmake -DIN=file.cl -DOUT=file.c -DSYMBOL=name -P embed_source.cmake
# Embeds a text file as a NUL-terminated char array (hex bytes, so no
# escaping can go wrong).
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n\t" bytes "${bytes}")
file(WRITE ${OUT} "/* generated from ${IN} by embed_source.cmake - do not edit */\n"
  "const char ${SYMBOL}[] = {\n\t${bytes}0x00\n};\n")
