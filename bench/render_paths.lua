-- wrk script for bench/render.sh: cycles through the request paths listed in the file named by PATHS_FILE,
-- asking for PNG (with the Authorization header from AUTHORIZATION, when set).
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
local headers = { ["Accept"] = "image/png" }
local authorization = os.getenv("AUTHORIZATION")
if authorization and authorization ~= "" then headers["Authorization"] = authorization end
local i = 0
request = function()
    i = (i % #paths) + 1
    return wrk.format("GET", paths[i], headers)
end
