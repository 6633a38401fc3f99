/// <reference path="../pb_data/types.d.ts" />
// edgefs companion mode (README, "In front of your PocketBase"): tells the Worker in
// front of this PocketBase when a record with files changes or goes, or a collection's
// rules change, so the Worker stops serving what it kept about them at once.
//
// Copy this file and edgefs.js into your pb_hooks/ and set, in PocketBase's environment:
//   EDGEFS_PURGE_SECRET  the Worker's secret of the same name
//   EDGEFS_URL           the site the Worker serves files on (default: Settings >
//                        Application URL)

onRecordAfterUpdateSuccess((e) => {
  // The record as it was: its old files are the ones the Worker may have kept.
  require(`${__hooks}/edgefs.js`).purgeRecord(e.record.original());
  e.next();
});

onRecordAfterDeleteSuccess((e) => {
  require(`${__hooks}/edgefs.js`).purgeRecord(e.record);
  e.next();
});

onCollectionAfterUpdateSuccess((e) => {
  require(`${__hooks}/edgefs.js`).purgeCollection(e.collection);
  e.next();
});
