// The jobs this browser started, remembered in localStorage (the server keeps no list of
// jobs: a job's id is its only key). Shared by the upload panel and the job page.
"use strict";

const RECENT_JOBS_KEY = "formcheck.jobs";
const RECENT_JOBS_MAX = 20;

const recentJobs = {
  all() {
    try {
      const list = JSON.parse(localStorage.getItem(RECENT_JOBS_KEY) || "[]");
      return Array.isArray(list) ? list.filter((j) => j && typeof j.id === "string") : [];
    } catch (_) {
      return [];
    }
  },
  // Add or update {id, name, exercise, state}; newest first.
  remember(job) {
    const others = recentJobs.all().filter((j) => j.id !== job.id);
    const old = recentJobs.all().find((j) => j.id === job.id) || {};
    const entry = { ...old, ...job, savedAt: old.savedAt || Date.now() };
    try {
      localStorage.setItem(
        RECENT_JOBS_KEY, JSON.stringify([entry, ...others].slice(0, RECENT_JOBS_MAX)));
    } catch (_) { /* private mode or full: the job page still works by its address */ }
  },
  forget(id) {
    try {
      localStorage.setItem(
        RECENT_JOBS_KEY, JSON.stringify(recentJobs.all().filter((j) => j.id !== id)));
    } catch (_) { /* ignore */ }
  },
};
