; townapp — Inno Setup script (Inno Setup 6.3 or newer). Saved as UTF-8 with BOM: keep it so.
; Build on Windows from a clean checkout: see installers/windows/README.md.
;   python build_spec.py --installer       (builds dist\townapp\ and runs ISCC with /DMyAppVersion)
;   or: ISCC installers\windows\townapp.iss (reads build\installer\version.iss written by build_spec.py)
; Per-user install, no administrator rights; the user's data (%LOCALAPPDATA%\townapp) is never touched,
; neither by the installer nor by the uninstaller.

#ifndef MyAppVersion
  #if FileExists(AddBackslash(SourcePath) + "..\..\build\installer\version.iss")
    #include AddBackslash(SourcePath) + "..\..\build\installer\version.iss"
  #else
    #error 缺少版本号：请先运行 python build_spec.py（会写出 build\installer\version.iss），或用 ISCC /DMyAppVersion=版本号
  #endif
#endif

#define MyAppName "乡镇党建与基层治理台账"
#define MyAppExe "townapp.exe"
#define Root AddBackslash(SourcePath) + "..\.."

; The Chinese wizard: Inno Setup ships ChineseSimplified.isl in recent versions; older ones can use a copy
; placed beside this script (see README.md).
#if FileExists(AddBackslash(SourcePath) + "ChineseSimplified.isl")
  #define ChineseMessages AddBackslash(SourcePath) + "ChineseSimplified.isl"
#elif FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
  #define ChineseMessages "compiler:Languages\ChineseSimplified.isl"
#else
  #error 找不到简体中文语言文件 ChineseSimplified.isl：请升级 Inno Setup，或把它放在 townapp.iss 旁边（见 README.md）
#endif

#if !FileExists(Root + "\dist\townapp\" + MyAppExe)
  #error 找不到 dist\townapp\townapp.exe：请先运行 python build_spec.py
#endif

[Setup]
AppId={{7C9E6199-5A97-459A-A12E-946D0D22514B}
AppName={#MyAppName}
AppVersion={#MyAppVersion}
AppVerName={#MyAppName} {#MyAppVersion}
AppPublisher=townapp
AppComments=离线使用，数据只保存在本机的数据文件夹中
DefaultDirName={autopf}\townapp
DefaultGroupName={#MyAppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=townapp-{#MyAppVersion}-setup
SetupIconFile={#Root}\resources\icons\townapp.ico
UninstallDisplayIcon={app}\{#MyAppExe}
UninstallDisplayName={#MyAppName} {#MyAppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ShowLanguageDialog=no
CloseApplications=yes
SetupLogging=yes

[Languages]
Name: "chinesesimplified"; MessagesFile: "{#ChineseMessages}"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#Root}\dist\townapp\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#MyAppName}"; Filename: "{app}\{#MyAppExe}"
Name: "{group}\{#MyAppName}（演示数据）"; Filename: "{app}\{#MyAppExe}"; Parameters: "--demo"
Name: "{group}\程序自检"; Filename: "{cmd}"; Parameters: "/k ""{app}\townapp-cli.exe"" selftest"
Name: "{group}\卸载 {#MyAppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#MyAppName}"; Filename: "{app}\{#MyAppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#MyAppExe}"; Description: "{cm:LaunchProgram,{#MyAppName}}"; Flags: nowait postinstall skipifsilent

[Code]
// The uninstaller removes only the program files; say where the data stays.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and (not UninstallSilent) then
    MsgBox('程序已卸载。您的数据（数据库、备份、日志）仍保存在：' + #13#10 +
           ExpandConstant('{localappdata}\townapp') + #13#10#13#10 +
           '重新安装后会继续使用这些数据。如确实不再需要，可以手动删除这个文件夹。',
           mbInformation, MB_OK);
end;
