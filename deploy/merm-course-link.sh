#!/bin/bash
# docker-stacks start hook (before-notebook.d): link the installed course into the home,
# where Voilà opens it (configure()'s default URL: /voila/render/merm-course/...).
course="$(python -c 'from simulator.paths import course_dir; print(course_dir())')"
link="${HOME}/merm-course"
if [ -L "${link}" ] && [ "$(readlink "${link}")" != "${course}" ]; then rm -f "${link}"; fi
[ -e "${link}" ] || ln -s "${course}" "${link}"
