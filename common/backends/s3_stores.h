// The Lake and MediaStore seams over S3 (s3://bucket/prefix locations), on
// top of ObjectStore (common/backends/s3.h). Thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/backends/s3.h"
#include "common/base/config.h"
#include "common/io/lake.h"
#include "common/io/media_store.h"

namespace scout {

// List is one ListObjectsV2 listing (all pages) with delimiter "/": common
// prefixes are folders, objects files with their size and ETag. ListFiles is
// one listing without delimiter, 1,000 keys a page, each page handed over as
// it arrives. A missing prefix is an empty listing; a missing bucket is
// NOT_FOUND. Names starting with "." are skipped, as the local lake skips
// hidden files.
std::unique_ptr<Lake> NewS3Lake(std::shared_ptr<ObjectStore> store, S3Location location);

// "Already stored" is a HEAD (never a GET). URLs are `base_url + key`;
// default: the object's own URL (<endpoint>/<bucket>/<prefix> for an
// S3-compatible server, https://<bucket>.s3.<region>.amazonaws.com/<prefix>
// on AWS).
std::unique_ptr<MediaStore> NewS3MediaStore(std::shared_ptr<ObjectStore> store, S3Location location,
                                            std::string base_url);

}  // namespace scout
