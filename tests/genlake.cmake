# Included from tests/CMakeLists.txt.
add_executable(genlake_test ${CMAKE_CURRENT_LIST_DIR}/genlake_test.cc)
target_link_libraries(genlake_test PRIVATE scout_genlake GTest::gtest_main nlohmann_json::nlohmann_json opencv_core opencv_imgcodecs scout_warnings)
add_test(NAME genlake_test COMMAND genlake_test)
